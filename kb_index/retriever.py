"""The knowledge-base retriever the bot policy calls (``gateway.protocols.Retriever``).

Loads the CURRENT index version.  ``search`` encodes the query and searches FAISS
in a thread executor (one worker: encodes are serialised instead of fighting for
the 2 cores), aggregates chunk, question and title hits per article (best score
wins), and attaches a calibrated confidence (:mod:`kb_index.calibration`).

Index versions are swapped by one attribute assignment of an immutable
:class:`~kb_index.versions.LoadedIndex`: a search takes that reference once, so
it uses the old or the new version, never a mix; ``SearchResult.index_version``
says which one answered.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway.protocols import Hit, SearchResult
from kb_index.calibration import BASELINE_DEPTH, Calibration, calibration_for, score_features
from kb_index.embedder import Embedder
from kb_index.vector_index import IndexFormatError
from kb_index.versions import LoadedIndex, current_version, load_version

log = logging.getLogger(__name__)

CHUNKS_PER_HIT = 20  # FAISS neighbours fetched per requested article hit
MIN_CHUNKS = 100  # enough to rank BASELINE_DEPTH articles for the confidence


class KBRetriever:
    """Retriever over a versioned index directory."""

    def __init__(
        self,
        index_dir: str | Path,
        embedder: Embedder,
        *,
        calibration: Calibration | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.calibration = calibration or calibration_for(embedder.name)
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix="kb-search")
        self._reload_lock = asyncio.Lock()
        self.last_error = ""
        self._loaded: LoadedIndex | None = None
        version = current_version(self.index_dir)
        if version:
            self._loaded = self._try_load(version)

    # ------------------------------------------------------------------ state
    @property
    def version(self) -> str:
        loaded = self._loaded
        return loaded.version if loaded else ""

    @property
    def loaded(self) -> LoadedIndex | None:
        return self._loaded

    def _try_load(self, version: str) -> LoadedIndex | None:
        try:
            loaded = load_version(self.index_dir, version)
        except IndexFormatError as exc:
            self.last_error = str(exc)
            log.error("knowledge base: %s", exc)
            return None
        if loaded.embedder_name != self.embedder.name:
            self.last_error = (
                f"index version {version} was built with {loaded.embedder_name!r} but the "
                f"retriever uses {self.embedder.name!r}: rebuild it with `guichet kb index`"
            )
            log.error("knowledge base: %s", self.last_error)
            return None
        self.last_error = ""
        return loaded

    async def reload_if_changed(self) -> bool:
        """Load and swap in the version CURRENT names, if it is a new one."""
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            version = await loop.run_in_executor(None, current_version, self.index_dir)
            if not version or version == self.version:
                return False
            loaded = await loop.run_in_executor(None, self._try_load, version)
            if loaded is None:
                return False
            self._loaded = loaded  # the atomic swap
            log.info("knowledge base: now serving index version %s", version)
            return True

    async def warm_up(self) -> None:
        """Load the model now (in the executor), not on the first customer's question."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.embedder.encode, ["warm up"])

    def close(self) -> None:
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # ----------------------------------------------------------------- search
    async def search(self, text: str, k: int = 5) -> SearchResult:
        loaded = self._loaded  # one snapshot for the whole search
        if loaded is None or not text.strip():
            return self._empty(loaded, text)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._search, loaded, text, k)

    def search_sync(self, text: str, k: int = 5) -> SearchResult:
        loaded = self._loaded
        if loaded is None or not text.strip():
            return self._empty(loaded, text)
        return self._search(loaded, text, k)

    def _empty(self, loaded: LoadedIndex | None, text: str) -> SearchResult:
        if loaded is None:
            detail = self.last_error or (
                f"no knowledge-base index in {self.index_dir}: run `guichet kb index`"
            )
            return SearchResult((), 0.0, "", {"status": "no_index", "detail": detail})
        return SearchResult((), 0.0, loaded.version, {"status": "empty_query"})

    def _search(self, loaded: LoadedIndex, text: str, k: int) -> SearchResult:
        query = self.embedder.encode([text])
        if query.shape[1] != loaded.vectors.dim:
            detail = f"query dim {query.shape[1]} != index dim {loaded.vectors.dim}"
            return SearchResult((), 0.0, loaded.version, {"status": "error", "detail": detail})
        ids, scores = loaded.vectors.search(query, max(MIN_CHUNKS, k * CHUNKS_PER_HIT))
        best: dict[str, tuple[float, str]] = {}
        for row_id, score in zip(ids[0].tolist(), scores[0].tolist(), strict=True):
            if row_id < 0:
                continue
            chunk = loaded.vectors.row(row_id)
            if chunk.article_id not in best or score > best[chunk.article_id][0]:
                best[chunk.article_id] = (float(score), chunk.text)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
        hits = []
        for article_id, (score, matched) in ranked[: max(0, k)]:
            article = loaded.articles.get(article_id)
            if article is None:
                continue
            hits.append(
                Hit(article.id, article.title, article.body, score, article.lang,
                    article.tags, matched)
            )
        head = [score for _, (score, _) in ranked[:BASELINE_DEPTH]]
        top, margin, lift = score_features(head)
        extras = {
            "status": "ok",
            "top_score": round(top, 4),
            "margin": round(margin, 4),
            "lift": round(lift, 4),
            "scores": [round(x, 4) for x in head],
            "embedder": self.embedder.name,
        }
        confidence = self.calibration.confidence(head) if hits else 0.0
        return SearchResult(tuple(hits), confidence, loaded.version, extras)
