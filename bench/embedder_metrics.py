"""Threshold-free retrieval metrics for ``bench.embedders``: ranking, top-1, recall@3,
AUROC, and the coverage a fitted confidence reaches at a target precision.

Input: a similarity matrix (cases x chunks) and the article id of every chunk.
An article's score is its best chunk's (what ``KBRetriever`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOP_SCORES = 10  # article scores kept per case (the calibration features use 10)


@dataclass(frozen=True, slots=True)
class Ranked:
    """One case: its kind, expected article (None: out of scope), ranked articles."""

    kind: str
    expected: str | None
    ids: tuple[str, ...]
    scores: tuple[float, ...]

    @property
    def top_ok(self) -> bool:
        return self.expected is not None and bool(self.ids) and self.ids[0] == self.expected


def rank(sims: np.ndarray, chunk_articles: Sequence[str], kinds: Sequence[str],
         expected: Sequence[str | None]) -> list[Ranked]:
    """Per case, articles ranked by their best chunk's similarity."""
    names = sorted(set(chunk_articles))
    column = {name: i for i, name in enumerate(names)}
    owner = np.array([column[a] for a in chunk_articles])
    per_article = np.full((sims.shape[0], len(names)), -np.inf, dtype=np.float64)
    for j in range(len(names)):
        per_article[:, j] = sims[:, owner == j].max(axis=1)
    out = []
    for i in range(sims.shape[0]):
        row = per_article[i]
        order = sorted(range(len(names)), key=lambda j: (-float(row[j]), names[j]))
        top = order[:TOP_SCORES]
        out.append(Ranked(kinds[i], expected[i], tuple(names[j] for j in top),
                          tuple(float(per_article[i, j]) for j in top)))
    return out


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney)."""
    if not positive or not negative:
        return float("nan")
    pos = np.asarray(positive)[:, None]
    neg = np.asarray(negative)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def retrieval_metrics(cases: Sequence[Ranked]) -> dict[str, float]:
    """top-1 and recall@3 over answerable cases; AUROCs of the top score."""
    answerable = [c for c in cases if c.expected is not None]
    null = [c for c in cases if c.expected is None]
    out: dict[str, float] = {"n": float(len(cases))}
    if answerable:
        out["top1"] = sum(c.top_ok for c in answerable) / len(answerable)
        out["recall3"] = sum(c.expected in c.ids[:3] for c in answerable) / len(answerable)
    # in scope vs out of scope, by the raw top score
    out["auroc_oos"] = auroc([c.scores[0] for c in answerable], [c.scores[0] for c in null])
    # right top-1 vs everything else (wrong article or out of scope): what precision needs
    out["auroc_ok"] = auroc([c.scores[0] for c in cases if c.top_ok],
                            [c.scores[0] for c in cases if not c.top_ok])
    return out


def by_kind(cases: Sequence[Ranked]) -> dict[str, dict[str, float]]:
    kinds = sorted({c.kind for c in cases})
    return {kind: retrieval_metrics([c for c in cases if c.kind == kind]) for kind in kinds}


def coverage_precision(conf: Sequence[float], cases: Sequence[Ranked], threshold: float
                       ) -> tuple[float, float]:
    """(coverage, answered-precision) when answering every case with conf >= threshold."""
    answered = [c for c, p in zip(cases, conf, strict=True) if p >= threshold]
    answerable = sum(c.expected is not None for c in cases)
    coverage = sum(c.expected is not None for c in answered) / answerable if answerable else 0.0
    precision = sum(c.top_ok for c in answered) / len(answered) if answered else 1.0
    return coverage, precision


def operating_point(conf: Sequence[float], cases: Sequence[Ranked], target: float) -> float:
    """The lowest threshold whose precision reaches ``target`` (most coverage)."""
    best = 1.0 + 1e-9
    for t in sorted(set(conf), reverse=True):
        if coverage_precision(conf, cases, t)[1] >= target:
            best = t
    return best


DENSE_FEATURES = ("top", "margin", "lift")


def dense_features(scores: Sequence[float]) -> dict[str, float]:
    """The score features of the calibration that need no lexical index."""
    from kb_index.calibration import score_features

    return dict(zip(DENSE_FEATURES, score_features(scores), strict=True))


def calibrated(dev: Sequence[Ranked], others: Sequence[Sequence[Ranked]], target: float = 0.95
               ) -> dict[str, object]:
    """Fit a dense-only calibration (top, margin, lift) on ``dev``, choose the threshold
    for ``target`` precision on dev, and report coverage/precision there and on every
    set of ``others`` at that same threshold."""
    from kb_index.calibration import fit_calibration

    cal = fit_calibration([dense_features(c.scores) for c in dev], [c.top_ok for c in dev],
                          features=DENSE_FEATURES)

    def conf(cases: Sequence[Ranked]) -> list[float]:
        return [cal.confidence(dense_features(c.scores)) for c in cases]

    dev_conf = conf(dev)
    threshold = operating_point(dev_conf, dev, target)
    rows = [coverage_precision(dev_conf, dev, threshold)]
    rows += [coverage_precision(conf(cases), cases, threshold) for cases in others]
    return {"calibration": cal, "threshold": threshold, "points": rows}
