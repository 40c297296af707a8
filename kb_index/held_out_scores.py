"""The retriever's features for a query that may not see part of the index.

The self-calibration (:mod:`kb_index.self_calibration`) scores the KB's own
questions as the live retriever would (:meth:`kb_index.retriever.KBRetriever.rank`:
dense best chunk mixed with the question-variant centroid, BM25 as the share of the
query's IDF mass, the term bridge for the other language, the same fusion and the
same features), except that each query may not match some chunk rows (the text it
was taken from) or a whole article (left out: whatever is found is then wrong).
Nothing is rebuilt: the query's cosine to every chunk is computed once and the
held-out rows are masked.  With nothing held out the features are exactly the
retriever's for a KB of up to :data:`kb_index.dense_scores.FULL_SCAN` chunks (a
test checks it); above that the retriever sees only its nearest
:data:`~kb_index.dense_scores.DENSE_DEPTH` chunks, which is mirrored here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kb_index.calibration import BASELINE_DEPTH, features_of
from kb_index.dense_scores import CENTROID_KINDS, DENSE_DEPTH, FULL_SCAN, passage_weight_of
from kb_index.embed_cache import EmbeddingCache, embed_texts
from kb_index.fusion import FusionConfig, fuse, ranked
from kb_index.lexical import K1, tokenize
from kb_index.term_bridge import TermBridge, WordVectors, content_words
from kb_index.twins import index_twins, merge_twins, same_topic, topic_articles

if TYPE_CHECKING:
    from kb_index.versions import LoadedIndex


@dataclass(frozen=True, slots=True)
class Probe:
    """One query: its text, and what it may not match."""

    text: str
    lang: str  # the query's language ("" unknown)
    held_out: tuple[int, ...] = ()  # chunk rows masked
    excluded: str = ""  # an article left out entirely


class HeldOutScorer:
    """Features of queries against one loaded index version, with masks."""

    def __init__(
        self,
        loaded: LoadedIndex,
        fusion: FusionConfig,
        *,
        word_vectors: WordVectors | None = None,
    ) -> None:
        self.loaded = loaded
        self.fusion = fusion
        vectors = loaded.vectors
        ids, matrix = vectors.all_vectors()
        order = np.argsort(ids)
        self.matrix = matrix[order]
        self.chunks = [vectors.row(i) for i in range(len(vectors))]
        self.names = sorted({c.article_id for c in self.chunks})
        position = {name: i for i, name in enumerate(self.names)}
        self.row_article = np.asarray([position[c.article_id] for c in self.chunks], dtype=np.int64)
        self.article_rows: dict[str, np.ndarray] = {
            name: np.flatnonzero(self.row_article == i) for i, name in enumerate(self.names)
        }
        self.centroid_rows: dict[str, np.ndarray] = {}
        if fusion.centroid_weight > 0:
            counts: dict[str, int] = {}
            for chunk in self.chunks:
                if chunk.kind == "question":
                    counts[chunk.article_id] = counts.get(chunk.article_id, 0) + 1
            for name, n in counts.items():
                if n >= fusion.centroid_min_variants:
                    rows = self.article_rows[name]
                    self.centroid_rows[name] = np.asarray(
                        [r for r in rows.tolist() if self.chunks[r].kind in CENTROID_KINDS], dtype=np.int64)
        self.passage_rows: dict[str, np.ndarray] = {}  # prose articles: their passage mean is mixed in
        self.passage_weight = passage_weight_of(fusion, loaded)
        if self.passage_weight > 0:
            for name, rows in self.article_rows.items():
                if name not in self.centroid_rows:
                    kept = np.asarray([r for r in rows.tolist() if self.chunks[r].kind == "passage"],
                                      dtype=np.int64)
                    if len(kept):
                        self.passage_rows[name] = kept
        self._passage_cache: tuple[list[str], np.ndarray] | None = None
        self.twins = index_twins([c.article_id for c in self.chunks], self.matrix, loaded.article_lang)
        self.bridge: TermBridge | None = loaded.bridge if word_vectors is not None else None
        self.word_vectors = word_vectors
        self._translations: dict[str, dict[str, str]] = {}  # language -> word -> token
        self._centroid_cache: tuple[list[str], np.ndarray] | None = None

    def prepare(self, texts: Sequence[str], cache: EmbeddingCache | None = None) -> None:
        """Translate every content word of ``texts`` now, in one encode and one
        product per language (the per-query path encodes and multiplies word by
        word: most of an index-time calibration's time before)."""
        bridge, word_vectors = self.bridge, self.word_vectors
        if bridge is None or word_vectors is None:
            return
        done = set.intersection(*map(set, self._translations.values())) if self._translations else set()
        words = sorted({w for text in texts for w in content_words(text)} - done)
        if not words:
            return
        # through the embedding cache: the bridge's own vocabulary is there already,
        # and a rebuild then need not load the word encoder at all
        vectors = embed_texts(word_vectors.encoder, words, cache).vectors
        for lang in bridge.languages:
            table = self._translations.setdefault(lang, {})
            for start in range(0, len(words), 512):
                part = words[start:start + 512]
                table.update(zip(part, bridge.translate(part, vectors[start:start + 512], lang), strict=True))

    def _translate(self, words: Sequence[str], lang: str) -> list[str]:
        table = self._translations.get(lang, {})
        if all(w in table for w in words):
            return [table[w] for w in words]
        assert self.bridge is not None and self.word_vectors is not None
        return self.bridge.translate(words, self.word_vectors(words), lang)

    # ------------------------------------------------------------------ dense
    def _dense(self, vector: np.ndarray, probe: Probe) -> dict[str, float]:
        scores = self.matrix @ vector.astype(np.float32)
        blocked = np.zeros(len(scores), dtype=bool)
        if probe.held_out:
            blocked[list(probe.held_out)] = True
        if probe.excluded in self.article_rows:
            blocked[self.article_rows[probe.excluded]] = True
        visible = np.flatnonzero(~blocked)
        if not len(visible):
            return {}
        if len(self.chunks) > FULL_SCAN:  # the retriever sees its nearest rows only
            depth = min(DENSE_DEPTH, len(visible))
            visible = visible[np.argpartition(-scores[visible], depth - 1)[:depth]]
        best = np.full(len(self.names), -np.inf, dtype=np.float64)
        np.maximum.at(best, self.row_article[visible], scores[visible])
        seen = np.isfinite(best)
        dense = {self.names[i]: float(best[i]) for i in np.flatnonzero(seen).tolist()}
        floor = min(dense.values()) if dense else 0.0
        if self.centroid_rows:
            dense = self._with_centroids(dense, vector, blocked)
        if self.passage_rows:
            dense = self._with_passages(dense, vector, blocked, floor)
        return dense

    def _with_passages(
        self, dense: dict[str, float], vector: np.ndarray, blocked: np.ndarray, floor: float
    ) -> dict[str, float]:
        """The passage mean of each prose article mixed in, as :class:`DenseScorer` does;
        an article with a held-out passage gets the mean of the others (none left: its
        best chunk alone)."""
        p = self.passage_weight
        if self._passage_cache is None:
            self._passage_cache = self._unit_means(self.passage_rows)
        names, unit = self._passage_cache
        return self._mixed(dense, vector, blocked, self.passage_rows, (names, unit), p, floor)

    def _mixed(
        self, dense: dict[str, float], vector: np.ndarray, blocked: np.ndarray,
        groups: Mapping[str, np.ndarray], means: tuple[list[str], np.ndarray], weight: float,
        floor: float,
    ) -> dict[str, float]:
        """``(1 - weight) · dense + weight · cosine`` with each group's unit mean
        (``means``, every full group at once); a group with a held-out or left-out row
        gets the mean of its other rows (none left: its dense score alone)."""
        names, unit = means
        cosines = unit @ vector.astype(np.float32)
        mixed = dict(dense)
        for name, cosine in zip(names, cosines.tolist(), strict=True):
            rows = groups[name]
            if blocked[rows].any():
                kept = rows[~blocked[rows]]
                if not len(kept):
                    continue
                mean = self.matrix[kept].mean(axis=0)
                norm = float(np.linalg.norm(mean))
                cosine = float(mean @ vector) / norm if norm > 0 else 0.0
            mixed[name] = (1.0 - weight) * dense.get(name, floor) + weight * cosine
        return mixed

    def _unit_means(self, groups: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
        names = list(groups)
        means = np.stack([self.matrix[groups[n]].mean(axis=0) for n in names]) if names \
            else np.zeros((0, self.matrix.shape[1]), dtype=np.float32)
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        return names, (means / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def _with_centroids(
        self, dense: dict[str, float], vector: np.ndarray, blocked: np.ndarray
    ) -> dict[str, float]:
        floor = min(dense.values()) if dense else 0.0
        return self._mixed(dense, vector, blocked, self.centroid_rows, self._centroids(),
                           self.fusion.centroid_weight, floor)

    def _centroids(self) -> tuple[list[str], np.ndarray]:
        """(articles, unit mean of their variant rows), computed once: on an FAQ KB of
        a hundred variants an article, recomputing them per query was most of a build."""
        if self._centroid_cache is None:
            self._centroid_cache = self._unit_means(self.centroid_rows)
        return self._centroid_cache

    # ---------------------------------------------------------------- lexical
    def _article_lexical(self, tokens: Sequence[str], blocked_docs: np.ndarray) -> dict[str, float]:
        lex = self.loaded.lexical
        assert lex is not None
        mass = lex.query_mass(tokens)
        scores = lex.doc_scores(tokens).astype(np.float64)
        scores[blocked_docs] = 0.0
        if mass <= 0 or not scores.any():
            return {}
        best = np.zeros(len(lex.articles), dtype=np.float64)
        np.maximum.at(best, lex.doc_article, scores)
        scale = (K1 + 1.0) / mass
        return {lex.articles[i]: min(1.0, float(best[i]) * scale) for i in np.flatnonzero(best > 0)}

    def _lexical(
        self, probe: Probe, blocked_docs: np.ndarray
    ) -> tuple[dict[str, float], dict[str, list[str]], list[str]]:
        tokens = tokenize(probe.text)
        scores = self._article_lexical(tokens, blocked_docs)
        by_lang = {probe.lang: tokens} if probe.lang else {}
        bridge = self.bridge
        others = [lang for lang in (bridge.languages if bridge else ()) if lang != probe.lang]
        words = content_words(probe.text)
        if not probe.lang or bridge is None or self.word_vectors is None or not others or not words:
            return scores, by_lang, tokens
        merged = dict(scores)
        for lang in others:
            translated = self._translate(words, lang)
            by_lang[lang] = translated
            for article_id, score in self._article_lexical(translated, blocked_docs).items():
                if self.loaded.article_lang.get(article_id, "") == lang:
                    merged[article_id] = max(score, scores.get(article_id, 0.0))
        return merged, by_lang, tokens

    def _coverage(self, tokens: Sequence[str], article_id: str, blocked_docs: np.ndarray) -> float:
        lex = self.loaded.lexical
        assert lex is not None
        mass = lex.query_mass(tokens)
        if mass <= 0:
            return 0.0
        if blocked_docs.any():
            words: set[str] = set()
            for doc in self.article_rows.get(article_id, np.zeros(0, np.int64)).tolist():
                if not blocked_docs[doc]:
                    words.update(lex.tokens[doc])
        else:
            words = lex.article_tokens.get(article_id, set())
        return sum(lex.idf(t) for t in tokens if t in words) / mass

    # --------------------------------------------------------------- features
    def features(self, vector: np.ndarray, probe: Probe) -> tuple[str, dict[str, float]]:
        """(top article id, the calibration features) of one encoded query."""
        dense = self._dense(vector, probe)
        lex_index = self.loaded.lexical
        blocked_docs = np.zeros(len(self.chunks), dtype=bool)
        if probe.held_out:
            blocked_docs[list(probe.held_out)] = True
        if probe.excluded in self.article_rows:
            blocked_docs[self.article_rows[probe.excluded]] = True
        if lex_index is not None and len(lex_index) == len(self.chunks):
            lexical, by_lang, tokens = self._lexical(probe, blocked_docs)
        else:
            lexical, by_lang, tokens = {}, {}, []
        config = self.fusion if lex_index is not None else FusionConfig(lexical_weight=0.0)
        fused = merge_twins(fuse(dense, lexical, config), self.twins, probe.lang, self.loaded.article_lang)
        head = [score for _, score in fused[:BASELINE_DEPTH]]
        top_id = fused[0][0] if fused else ""
        lex_top = ranked(lexical)[0][0] if lexical else ""
        coverage = 0.0
        if lex_index is not None and top_id:
            for topic in topic_articles(top_id, self.twins):  # as the retriever does
                topic_lang = self.loaded.article_lang.get(topic, "")
                coverage = max(coverage, self._coverage(by_lang.get(topic_lang, tokens), topic, blocked_docs))
        dense_top = ranked(dense)[0][0] if dense else ""
        feats = features_of(head, agree=same_topic(lex_top, top_id, self.twins), coverage=coverage,
                            dense_agree=same_topic(dense_top, top_id, self.twins))
        return top_id, feats

    def features_many(
        self, vectors: np.ndarray, probes: Sequence[Probe]
    ) -> list[tuple[str, Mapping[str, float]]]:
        return [self.features(v, p) for v, p in zip(vectors, probes, strict=True)]
