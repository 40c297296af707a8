"""The knowledge-base retriever the bot policy calls (a :class:`kb_index.contracts.Retriever`).

Loads the CURRENT index version.  ``search`` encodes the query and searches in a
thread executor (one worker: encodes are serialised instead of fighting for the 2
cores); questions that arrive while one is being searched are encoded together, as
the next batch (:mod:`kb_index.micro_batch`).

Hybrid: dense scores per article (best chunk, mixed with the article's
question-variant centroid: :mod:`kb_index.dense_scores`) and BM25 scores per
article (:mod:`kb_index.lexical`) are fused (:mod:`kb_index.fusion`);
``Hit.score`` is the fused score.  ``SearchResult.confidence`` is the calibrated
probability that the top article is right (:mod:`kb_index.calibration`), with the
calibration stored in the index version when it has one (measured on the KB itself
at build time: :mod:`kb_index.self_calibration`), and ``SearchResult.extras`` carries
the features it came from.

Cross-language: given a word encoder (``terms``) and an index version built with a
term bridge, a question's words are translated into the KB's other language before
BM25 scores that language's articles (:mod:`kb_index.term_bridge`); the lexical
features of the confidence then use the top article's language.

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
from typing import Any

import faiss
import numpy as np

from kb_index.calibration import BASELINE_DEPTH, Calibration, calibration_for, features_of
from kb_index.contracts import Hit, SearchResult
from kb_index.dense_scores import DenseScorer
from kb_index.embedder import Embedder, encode_queries
from kb_index.fusion import FusionConfig, fuse, ranked
from kb_index.language import detect
from kb_index.micro_batch import MicroBatcher
from kb_index.term_bridge import WordVectors, bridged_scores
from kb_index.twins import index_twins, merge_twins, same_topic, topic_articles
from kb_index.vector_index import IndexFormatError
from kb_index.versions import LoadedIndex, current_version, load_version

log = logging.getLogger(__name__)

# One query at a time is searched: FAISS's OpenMP threads only add overhead, and
# on 2 busy cores a lot of it (measured 24 ms a query with 2 threads, 0.9 ms
# with 1, 15,000 vectors).
faiss.omp_set_num_threads(1)

DENSE_ONLY = FusionConfig(lexical_weight=0.0)  # for index versions built without BM25


class KBRetriever:
    """Retriever over a versioned index directory."""

    def __init__(
        self,
        index_dir: str | Path,
        embedder: Embedder,
        *,
        calibration: Calibration | None = None,
        fusion: FusionConfig | None = None,
        executor: ThreadPoolExecutor | None = None,
        terms: Embedder | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.terms = terms
        self._word_vectors = WordVectors(terms) if terms is not None else None
        self._bridge_warned: set[str] = set()
        self._fixed_calibration = calibration  # given: used for every version
        self.calibration = calibration or calibration_for(embedder.name)  # versions without their own
        self.fusion = fusion or FusionConfig()
        self._scorers: dict[str, DenseScorer] = {}  # per index version: the live one, maybe the last
        self._twins: dict[str, tuple[LoadedIndex, dict[str, str]]] = {}  # per version: translated pairs
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix="kb-search")
        self._reload_lock = asyncio.Lock()
        self._batcher: MicroBatcher[tuple[LoadedIndex, str, int], SearchResult] = MicroBatcher(
            self._search_batch, self._executor)
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

    @property
    def batch_sizes(self) -> list[int]:
        """Questions per encode of the last searches (:mod:`kb_index.micro_batch`)."""
        return list(self._batcher.batches)

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
        self._scorer_for(loaded)  # built now, off the search path, not on the first question
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
        await loop.run_in_executor(self._executor, encode_queries, self.embedder, ["warm up"])
        if self.terms is not None:
            await loop.run_in_executor(self._executor, self.terms.encode, ["warm up"])

    def close(self) -> None:
        self._batcher.close()
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # ----------------------------------------------------------------- search
    async def search(self, text: str, k: int = 5) -> SearchResult:
        loaded = self._loaded  # one snapshot for the whole search
        if loaded is None or not text.strip():
            return self._empty(loaded, text)
        return await self._batcher.submit((loaded, text, k))

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
        return self._search_batch([(loaded, text, k)])[0]

    def _search_batch(self, items: list[tuple[LoadedIndex, str, int]]) -> list[SearchResult]:
        """One encode for every question, then each ranked on its own snapshot."""
        queries = encode_queries(self.embedder, [text for _, text, _ in items])
        results = []
        for (loaded, text, k), vector in zip(items, queries, strict=True):
            if vector.shape[0] != loaded.vectors.dim:
                detail = f"query dim {vector.shape[0]} != index dim {loaded.vectors.dim}"
                results.append(SearchResult((), 0.0, loaded.version, {"status": "error", "detail": detail}))
            else:
                results.append(self.rank(loaded, text, vector, k))
        return results

    def search_encoded(self, text: str, vector: np.ndarray, k: int = 5) -> SearchResult:
        """Like :meth:`search_sync` with the query already encoded by
        :func:`kb_index.embedder.encode_queries` (batch evaluations)."""
        loaded = self._loaded
        if loaded is None or not text.strip():
            return self._empty(loaded, text)
        return self.rank(loaded, text, vector, k)

    def rank(self, loaded: LoadedIndex, text: str, vector: np.ndarray, k: int) -> SearchResult:
        """Hybrid ranking of one encoded query against one index version."""
        dense, matched = self._dense(loaded, vector)
        lex_index = loaded.lexical
        query_lang = detect(text, default="")
        bridge = loaded.bridge if self.terms is not None and self._bridge_usable(loaded) else None
        if lex_index is not None:
            evidence = bridged_scores(lex_index, loaded.article_lang, text, query_lang, bridge,
                                      self._word_vectors)
            lexical = evidence.scores
        else:
            lexical = {}
        config = self.fusion if lex_index is not None else DENSE_ONLY
        twins = self.twins_of(loaded)
        fused = merge_twins(fuse(dense, lexical, config), twins, query_lang, loaded.article_lang)
        hits = []
        for article_id, score in fused[: max(0, k)]:
            article = loaded.articles.get(article_id)
            if article is None:
                continue
            hits.append(Hit(article.id, article.title, article.body, score, article.lang,
                            article.tags, matched.get(article_id, "")))
        head = [score for _, score in fused[:BASELINE_DEPTH]]
        top_id = fused[0][0] if fused else ""
        lex_top = ranked(lexical)[0][0] if lexical else ""
        coverage = 0.0
        if lex_index is not None and top_id:
            for topic in topic_articles(top_id, twins):  # the better of a translated pair
                topic_lang = loaded.article_lang.get(topic, "")
                coverage = max(coverage, lex_index.coverage(evidence.tokens_for(topic_lang), topic))
        dense_top = ranked(dense)[0][0] if dense else ""
        features = features_of(head, agree=same_topic(lex_top, top_id, twins), coverage=coverage,
                               dense_agree=same_topic(dense_top, top_id, twins))
        calibration = self.calibration_of(loaded)
        extras: dict[str, Any] = {
            "status": "ok",
            **{name: round(value, 4) for name, value in features.items()},
            "scores": [round(x, 4) for x in head],
            "dense": round(dense.get(top_id, 0.0), 4),
            "lexical": round(lexical.get(top_id, 0.0), 4),
            "lexical_top": lex_top,
            "embedder": self.embedder.name,
            "calibration": calibration.name,
            "query_lang": query_lang,
            "bridged": bridge is not None,
        }
        level = (loaded.manifest.get("self_calibration") or {}).get("offtopic_level")
        if level is not None:  # measured when the version was built (kb_index.self_calibration)
            extras["offtopic_level"] = float(level)
        confidence = calibration.confidence(features) if hits else 0.0
        return SearchResult(tuple(hits), confidence, loaded.version, extras)

    def calibration_of(self, loaded: LoadedIndex) -> Calibration:
        """The calibration a version's confidences use: the one given to the retriever,
        else the version's own (measured when it was built:
        :mod:`kb_index.self_calibration`), else the embedder's shipped one."""
        return self._fixed_calibration or loaded.calibration or self.calibration

    def _bridge_usable(self, loaded: LoadedIndex) -> bool:
        """A version's bridge is used only with the word encoder that built it."""
        bridge, terms = loaded.bridge, self.terms
        if terms is None:
            return False
        if bridge is not None and bridge.encoder_name == terms.name:
            return True
        if loaded.version not in self._bridge_warned:  # said once per version, not per question
            self._bridge_warned.add(loaded.version)
            found = f"a term bridge from {bridge.encoder_name!r}" if bridge else "no term bridge"
            log.warning("knowledge base: index version %s has %s, not one from %r: cross-language "
                        "words are not used until it is rebuilt (`guichet kb index`)",
                        loaded.version, found, terms.name)
        return False

    def twins_of(self, loaded: LoadedIndex) -> dict[str, str]:
        """The translated pairs of a version (:mod:`kb_index.twins`), found once."""
        known = self._twins.get(loaded.version)
        if known is None or known[0] is not loaded:
            ids, matrix = loaded.vectors.all_vectors()
            order = np.argsort(ids)
            rows = [loaded.vectors.row(int(i)).article_id for i in ids[order].tolist()]
            known = (loaded, index_twins(rows, matrix[order], loaded.article_lang))
            self._twins = {loaded.version: known}
        return known[1]

    def _dense(self, loaded: LoadedIndex, vector: np.ndarray) -> tuple[dict[str, float], dict[str, str]]:
        return self._scorer_for(loaded).scores(vector)

    def _scorer_for(self, loaded: LoadedIndex) -> DenseScorer:
        """The dense scorer of an index version, built once (a search still running on the
        previous version keeps its own)."""
        scorer = self._scorers.get(loaded.version)
        if scorer is None or scorer.loaded is not loaded:
            scorer = DenseScorer(loaded, self.fusion)
            keep = {v: s for v, s in self._scorers.items() if v == self.version}
            self._scorers = {**keep, loaded.version: scorer}
        return scorer
