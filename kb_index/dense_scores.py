"""Dense (embedding) score of every article for one query, over one index version.

An article's dense score is its best chunk's cosine (or the mean of its ``top_m``
best).  An article with at least ``centroid_min_variants`` question variants also
has a centroid: the normalised mean of its title and question vectors, a
prototype of how people ask for it.  Its score is then
``(1 - b) * best chunk + b * cosine(query, centroid)``, with ``b`` =
``FusionConfig.centroid_weight``.  One lucky variant no longer wins alone: on
CLINC150 (100 variants an intent, MiniLM) top-1 went from 88.0 % to 92.5 % with
b = 0.5, on BANKING77 10-shot from 82.7 % to 84.6 % (bench/public).

An article without a centroid (prose, the common case) gets the same with the
normalised mean of its passages: ``(1 - p) * best chunk + p * cosine(query, passage
mean)``, ``p`` = ``FusionConfig.passage_weight``, by default the version's own
(:data:`kb_index.fusion.PASSAGE_WEIGHT` for a self-calibrated version, none
otherwise).  One passage that happens to share a question's words no longer
outranks the article that is about the question as a whole.  Chosen on
examples/dev/transit, examples/eval/admin and shop and the sample (top-1 356 -> 362
of 411, no KB lost), then checked on two development KBs written afterwards:
examples/dev/insurance 0.642 -> 0.679, examples/dev/campus 0.714 -> 0.768
(docs/answer-quality.md).

Built once per index version (:class:`DenseScorer`), used for every query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kb_index.chunking import Chunk
from kb_index.fusion import FusionConfig, aggregate

if TYPE_CHECKING:  # kb_index.versions builds the self-calibration, which scores like this
    from kb_index.versions import LoadedIndex

FULL_SCAN = 1_000  # up to this many chunks, every chunk gets its dense score
DENSE_DEPTH = 300  # above it, FAISS neighbours fetched per query (a larger k costs FAISS's heap)
CENTROID_KINDS = ("title", "question")


def passage_weight_of(config: FusionConfig, loaded: LoadedIndex) -> float:
    """The passage-mean share to use: the config's, else the version's own."""
    return config.passage_weight if config.passage_weight is not None else loaded.passage_weight


class DenseScorer:
    """Row-to-article map and article centroids of one loaded index version."""

    def __init__(self, loaded: LoadedIndex, config: FusionConfig) -> None:
        self.loaded = loaded
        self.config = config
        vectors = loaded.vectors
        chunks = [vectors.row(i) for i in range(len(vectors))]
        self.names = sorted({c.article_id for c in chunks})
        position = {name: i for i, name in enumerate(self.names)}
        self.row_article = np.asarray([position[c.article_id] for c in chunks], dtype=np.int64)
        self.centroid_articles: list[str] = []
        self.centroids = np.zeros((0, vectors.dim), dtype=np.float32)
        if config.centroid_weight > 0 and len(vectors):
            self._build_centroids(chunks)
        self.passage_weight = passage_weight_of(config, loaded)
        self.passage_articles: list[str] = []
        self.passage_means = np.zeros((0, vectors.dim), dtype=np.float32)
        if self.passage_weight > 0 and len(vectors):
            self._build_passage_means(chunks)

    def _build_centroids(self, chunks: list[Chunk]) -> None:
        questions: dict[str, int] = {}
        for chunk in chunks:
            if chunk.kind == "question":
                questions[chunk.article_id] = questions.get(chunk.article_id, 0) + 1
        wanted = {a for a, n in questions.items() if n >= self.config.centroid_min_variants}
        if not wanted:
            return
        ids, matrix = self.loaded.vectors.all_vectors()
        rows: dict[str, list[int]] = {}
        for position, row_id in enumerate(ids.tolist()):
            chunk = chunks[row_id]
            if chunk.article_id in wanted and chunk.kind in CENTROID_KINDS:
                rows.setdefault(chunk.article_id, []).append(position)
        self.centroid_articles = sorted(rows)
        means = np.stack([matrix[rows[a]].mean(axis=0) for a in self.centroid_articles])
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        self.centroids = np.divide(means, norms, out=np.zeros_like(means), where=norms > 0)

    def _build_passage_means(self, chunks: list[Chunk]) -> None:
        ids, matrix = self.loaded.vectors.all_vectors()
        skip = set(self.centroid_articles)
        rows: dict[str, list[int]] = {}
        for position, row_id in enumerate(ids.tolist()):
            chunk = chunks[row_id]
            if chunk.kind == "passage" and chunk.article_id not in skip:
                rows.setdefault(chunk.article_id, []).append(position)
        if not rows:
            return
        self.passage_articles = sorted(rows)
        means = np.stack([matrix[rows[a]].mean(axis=0) for a in self.passage_articles])
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        self.passage_means = np.divide(means, norms, out=np.zeros_like(means), where=norms > 0)

    def scores(self, vector: np.ndarray) -> tuple[dict[str, float], dict[str, str]]:
        """(article -> dense score, article -> its best chunk's text)."""
        vectors = self.loaded.vectors
        total = len(vectors)
        depth = total if total <= FULL_SCAN else DENSE_DEPTH
        ids, scores = vectors.search(vector, depth)
        ids, scores = ids[0], scores[0]
        keep = ids >= 0
        ids, scores = ids[keep], scores[keep]
        articles = self.row_article[ids]
        matched: dict[str, str] = {}
        # FAISS returns best first: an article's first row is its best chunk
        _, first = np.unique(articles, return_index=True)
        for pos in first.tolist():
            matched[self.names[articles[pos]]] = vectors.row(int(ids[pos])).text
        if self.config.top_m == 1:
            dense = {self.names[articles[pos]]: float(scores[pos]) for pos in first.tolist()}
        else:
            pairs = zip((self.names[a] for a in articles.tolist()), scores.tolist(), strict=True)
            dense = aggregate(pairs, self.config.top_m)
        floor = min(dense.values()) if dense else 0.0
        mixed = dict(dense)
        for names, prototypes, b in ((self.centroid_articles, self.centroids, self.config.centroid_weight),
                                     (self.passage_articles, self.passage_means, self.passage_weight)):
            if names:
                cosines = prototypes @ np.asarray(vector, dtype=np.float32).reshape(-1)
                for article_id, cosine in zip(names, cosines.tolist(), strict=True):
                    mixed[article_id] = (1.0 - b) * dense.get(article_id, floor) + b * cosine
        return mixed, matched
