"""Job workers: take durable jobs from the store, run them, retry with
exponential backoff and jitter, and dead-letter what keeps failing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping

from gateway import metrics
from gateway.config import JobSettings
from gateway.flow.store import JobView, SqlStore

log = logging.getLogger(__name__)

Handler = Callable[[JobView], Awaitable[None]]


class PermanentJobError(Exception):
    """The job can never succeed (bad payload, deleted target): do not retry."""


def backoff_delay(attempt: int, cfg: JobSettings, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter in [base/2, cap]."""
    cap = min(cfg.backoff_max, cfg.backoff_base * 2 ** max(attempt - 1, 0))
    return cap / 2 + rand() * cap / 2


class JobRunner:
    def __init__(self, store: SqlStore, handlers: Mapping[str, Handler], cfg: JobSettings) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.cfg = cfg
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.processed = 0
        self.failed = 0

    def wake(self) -> None:
        """Called after a commit that added jobs: workers look at once."""
        self._wake.set()

    async def start(self) -> None:
        """Start ``cfg.workers`` workers (0: this process runs no jobs; they wait,
        durable, for a process that does)."""
        base = f"{os.getpid()}"
        self._tasks = [
            asyncio.create_task(self._work(f"{base}-w{i}"), name=f"job-worker-{i}")
            for i in range(self.cfg.workers)
        ]

    async def stop(self) -> None:
        """Graceful: workers finish the job in hand, then exit."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks = []

    async def run_once(self, worker: str = "once") -> int:
        """Process every job due now (tests and one-shot CLI use)."""
        count = 0
        while jobs := await self.store.claim_jobs(worker, 1):
            for job in jobs:
                await self._run(job)
                count += 1
        return count

    async def _work(self, worker: str) -> None:
        while not self._stopping:
            try:
                jobs = await self.store.claim_jobs(worker, 1)
            except Exception:
                log.exception("claiming jobs failed; retrying")
                jobs = []
                await asyncio.sleep(self.cfg.poll_interval)
            if not jobs:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.cfg.poll_interval)
                continue
            for job in jobs:
                await self._run(job)

    async def _run(self, job: JobView) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentJobError(f"no handler for job kind {job.kind!r}")
            with metrics.JOB_SECONDS.labels(job.kind).time():
                await handler(job)
        except asyncio.CancelledError:
            raise
        except PermanentJobError as exc:
            self.failed += 1
            log.error("job %s (%s) failed permanently: %s", job.id, job.kind, exc)
            metrics.JOBS_DEAD.labels(job.kind).inc()
            await self.store.retry_job(job, f"permanent: {exc}", None)
        except Exception as exc:
            self.failed += 1
            delay = backoff_delay(job.attempts, self.cfg)
            again = await self.store.retry_job(job, f"{type(exc).__name__}: {exc}", delay)
            (metrics.JOBS_RETRIED if again else metrics.JOBS_DEAD).labels(job.kind).inc()
            log.warning(
                "job %s (%s) attempt %d failed: %s; %s",
                job.id,
                job.kind,
                job.attempts,
                exc,
                f"retry in {delay:.1f}s" if again else "dead-lettered",
            )
        else:
            self.processed += 1
            metrics.JOBS_DONE.labels(job.kind).inc()
            await self.store.finish_job(job)
