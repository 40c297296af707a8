"""Fuse dense and BM25 evidence into one score per article.

Both retrievers score chunks (titles, question variants, passages); an article's
score on each side is the best of its chunks (``top_m = 1``) or the mean of its
best ``top_m`` chunks, then the two sides are fused:

- ``weighted`` (default): ``(1 - w) * dense + w * lexical``, where ``dense`` is a
  cosine and ``lexical`` the query-normalised BM25 score of
  :meth:`kb_index.lexical.LexicalIndex.article_scores` (0..1, 1 = every query word
  matched).  Both are on an absolute scale, so the fused score still says how
  good the best match is, which the confidence needs.
- ``rrf``: reciprocal rank fusion, ``sum 1 / (k + rank)``; rank-only, kept to be
  measured against (it ranks well but loses the absolute scale).

An article missing from one side gets that side's floor: 0 for BM25 (no query word
matched), the lowest cosine seen for dense (it was below every neighbour fetched).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

WEIGHTED = "weighted"
RRF = "rrf"
# The passage-mean share a self-calibrated index version is built, calibrated and
# searched with (its manifest records it; kb_index.dense_scores).  Versions without a
# self-calibration (the test hash embedder, older builds) get none: their calibration
# was set without it.
PASSAGE_WEIGHT = 0.65


@dataclass(frozen=True, slots=True)
class FusionConfig:
    method: str = WEIGHTED
    lexical_weight: float = 0.3  # w; 0 = dense only, 1 = BM25 only
    top_m: int = 1  # chunks averaged per article (1 = best chunk)
    rrf_k: int = 60
    centroid_weight: float = 0.5  # share of the question-variant centroid (kb_index.dense_scores)
    centroid_min_variants: int = 5  # fewer question variants: no centroid (too noisy a prototype)
    # share of the article's passage mean, for an article without a variant centroid:
    # the whole article's evidence beside its best chunk (kb_index.dense_scores).  None:
    # the index version's own (PASSAGE_WEIGHT for a self-calibrated version, else 0)
    passage_weight: float | None = None

    def __post_init__(self) -> None:
        if self.method not in (WEIGHTED, RRF):
            raise ValueError(f"unknown fusion method {self.method!r} (expected 'weighted' or 'rrf')")
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise ValueError("lexical_weight must be within 0..1")
        if self.top_m < 1:
            raise ValueError("top_m must be at least 1")
        if not 0.0 <= self.centroid_weight <= 1.0:
            raise ValueError("centroid_weight must be within 0..1")
        if self.passage_weight is not None and not 0.0 <= self.passage_weight <= 1.0:
            raise ValueError("passage_weight must be within 0..1")


def aggregate(pairs: Iterable[tuple[str, float]], top_m: int = 1) -> dict[str, float]:
    """Per article: the mean of its ``top_m`` best chunk scores (the max when 1)."""
    per_article: dict[str, list[float]] = {}
    for article_id, score in pairs:
        per_article.setdefault(article_id, []).append(float(score))
    result = {}
    for article_id, scores in per_article.items():
        best = sorted(scores, reverse=True)[:top_m]
        result[article_id] = sum(best) / len(best)
    return result


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Best first; ties broken by article id so results are deterministic."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def fuse(
    dense: Mapping[str, float], lexical: Mapping[str, float], config: FusionConfig = FusionConfig()
) -> list[tuple[str, float]]:
    """Fused (article id, score) pairs, best first, over the union of both sides."""
    articles = set(dense) | set(lexical)
    if not articles:
        return []
    if config.method == RRF:
        fused: dict[str, float] = dict.fromkeys(articles, 0.0)
        for side in (dense, lexical):
            for rank, (article_id, _) in enumerate(ranked(side), start=1):
                fused[article_id] += 1.0 / (config.rrf_k + rank)
        return ranked(fused)
    w = config.lexical_weight
    floor = min(dense.values()) if dense else 0.0
    return ranked({
        a: (1.0 - w) * dense.get(a, floor) + w * lexical.get(a, 0.0) for a in articles
    })
