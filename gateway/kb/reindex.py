"""Re-indexing while serving: one build at a time in a worker thread, progress on
the bus, the retriever switched as soon as a version is written, and rollback.

Used through :class:`gateway.kb.admin.KBAdmin` (its docstring lists the events).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gateway.errors import ConflictError, NotFoundError
from gateway.protocols import Event, EventBus
from kb_index.embedder import Embedder
from kb_index.vector_index import IndexFormatError
from kb_index.versions import (
    DEFAULT_KEEP,
    BuildReport,
    VersionInfo,
    activate,
    build_index,
    list_versions,
    next_version_name,
)

log = logging.getLogger(__name__)


class ReindexCancelled(Exception):
    """The service is closing: the build stops at its next batch, nothing is switched."""


@dataclass(frozen=True, slots=True)
class ReindexStatus:
    running: bool = False
    stage: str = "idle"  # idle | starting | loading | embedding | calibrating | writing | done | failed
    done: int = 0
    total: int = 0
    version: str = ""  # the version being built, or the last one built
    error: str = ""
    report: dict[str, Any] = field(default_factory=dict)  # of the last finished build

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def report_dict(report: BuildReport) -> dict[str, Any]:
    return {"version": report.version, "articles": report.article_count, "chunks": report.chunk_count,
            "reused": report.reused, "embedded": report.embedded, "seconds": round(report.seconds, 2),
            "errors": [{"path": e.path, "reason": e.reason} for e in report.errors]}


class Reindexer:
    """Single-flight builds of ``source_dir`` into ``index_dir``, and rollbacks."""

    def __init__(self, source_dir: Path, index_dir: Path, embedder: Embedder, *, bus: EventBus | None,
                 retriever: object | None, keep: int = DEFAULT_KEEP, batch_size: int = 32) -> None:
        self.source_dir, self.index_dir, self.embedder = source_dir, index_dir, embedder
        self.bus, self.retriever, self.keep, self.batch_size = bus, retriever, keep, batch_size
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="kb-build")
        self._task: asyncio.Task[BuildReport] | None = None
        self._switch = asyncio.Lock()  # one build or rollback moves CURRENT at a time
        self._closing = False
        self._pending: set[asyncio.Task[None]] = set()
        self.status = ReindexStatus()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> bool:
        """Start a build in the background; False if one is running (it is joined)."""
        if self.running:
            return False
        if self._closing:
            raise ConflictError("the server is shutting down")
        self.status = ReindexStatus(True, "starting", report=self.status.report)  # running from now on
        self._task = asyncio.get_running_loop().create_task(self._build(), name="kb-reindex")
        self._task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return True

    async def reindex(self) -> BuildReport:
        self.start()
        assert self._task is not None
        return await asyncio.shield(self._task)  # a caller giving up does not stop the build

    async def _build(self) -> BuildReport:
        loop = asyncio.get_running_loop()
        async with self._switch:
            version = next_version_name(self.index_dir)
            self.status = ReindexStatus(True, "starting", version=version, report=self.status.report)
            self._publish("kb.progress", self._progress_data())

            def on_progress(done: int, total: int, stage: str) -> None:  # in the build thread
                if self._closing and stage == "embedding":
                    raise ReindexCancelled("the server is shutting down")
                if stage != "done":  # "done" is announced once the retriever has switched
                    loop.call_soon_threadsafe(self._progress, done, total, stage)

            build = functools.partial(build_index, self.source_dir, self.index_dir, self.embedder,
                                      progress=False, keep=self.keep, on_progress=on_progress,
                                      batch_size=self.batch_size, version=version,
                                      terms=getattr(self.retriever, "terms", None))
            try:
                report = await loop.run_in_executor(self._executor, build)
            except Exception as exc:
                self.status = replace(self.status, running=False, stage="failed", error=str(exc))
                self._publish("kb.progress", {**self._progress_data(), "error": str(exc)})
                log.warning("knowledge-base re-index failed: %s", exc)
                raise
            await self._reload()
        total = report.chunk_count
        self.status = ReindexStatus(False, "done", total, total, version, report=report_dict(report))
        self._publish("kb.progress", self._progress_data())
        self._publish("kb.indexed", report_dict(report))
        return report

    def _progress(self, done: int, total: int, stage: str) -> None:
        if self.status.running:
            self.status = replace(self.status, stage=stage, done=done, total=total)
            self._publish("kb.progress", self._progress_data())

    def _progress_data(self) -> dict[str, Any]:
        s = self.status
        return {"done": s.done, "total": s.total, "stage": s.stage, "version": s.version}

    async def rollback(self, version: str) -> VersionInfo:
        if self.running:
            raise ConflictError("a re-index is running; roll back once it has finished")
        loop = asyncio.get_running_loop()
        async with self._switch:
            infos = await loop.run_in_executor(None, list_versions, self.index_dir)
            info = next((i for i in infos if i.version == version), None)
            if info is None:
                raise NotFoundError(f"no kept index version {version!r}")
            if info.embedder != self.embedder.name:
                raise ConflictError(f"version {version} was built with {info.embedder}, the bot uses "
                                    f"{self.embedder.name}: it cannot serve")
            try:
                await loop.run_in_executor(None, activate, self.index_dir, version)
            except (FileNotFoundError, IndexFormatError) as exc:
                raise ConflictError(f"version {version} cannot be loaded: {exc}") from exc
            await self._reload()
        self._publish("kb.activated", {"version": version})
        return replace(info, current=True)

    async def _reload(self) -> None:
        reload = getattr(self.retriever, "reload_if_changed", None)
        if reload is not None:
            try:
                await reload()
            except Exception:
                log.exception("the retriever did not reload; the index reloader will retry")

    async def aclose(self, wait_seconds: float = 30.0) -> None:
        """Stop: a running build is cancelled at its next batch (nothing switched)."""
        self._closing = True
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), wait_seconds)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _publish(self, topic: str, data: dict[str, Any]) -> None:
        if self.bus is None:
            return
        task = asyncio.get_running_loop().create_task(self.bus.publish(Event(topic, data)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
