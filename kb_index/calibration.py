"""Turn raw retrieval scores into a calibrated confidence.

v1 model, a logistic regression on three features of the ranked article scores
``s`` of one query (cosine similarities, best first)::

    top    = s[0]
    margin = s[0] - s[1]                  (s[0] when only one article matched)
    lift   = s[0] - mean(s[0:10])         (the query's own baseline)
    confidence = sigmoid(bias + w_top*top + w_margin*margin + w_lift*lift)

``lift`` is there because all-MiniLM-L6-v2 gives any French question a high
similarity to every French text (0.5-0.6 to unrelated French articles, against
0.1-0.3 for English): a raw top score of 0.6 means "sure" in English and
"nothing found" in French.  Relative to the query's baseline both look alike.

The constants are fitted by :func:`fit_calibration` (L2-regularised logistic
regression, Newton's method, plain numpy) on the dev cases
``examples/cases.jsonl``, all kinds included: label 1 when the top article is the
expected one, 0 otherwise (wrong article, or any article for an out-of-scope
question).  So a confidence of 0.8 means "about 8 times in 10 the top article is
the right one".  Reproduce with::

    guichet kb eval --kb examples/kb --cases examples/cases.jsonl --fit-calibration

The constants depend on the embedder, so each embedder family has its own
(:func:`calibration_for`).  The holdout cases are never used for fitting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BASELINE_DEPTH = 10  # articles averaged for the query's baseline score


def score_features(scores: Sequence[float]) -> tuple[float, float, float]:
    """(top, margin, lift) of ranked article scores; zeros when there is none."""
    if not scores:
        return 0.0, 0.0, 0.0
    top = float(scores[0])
    second = float(scores[1]) if len(scores) > 1 else 0.0
    head = scores[:BASELINE_DEPTH]
    return top, top - second, top - float(sum(head)) / len(head)


@dataclass(frozen=True, slots=True)
class Calibration:
    bias: float
    w_top: float
    w_margin: float
    w_lift: float = 0.0

    def confidence(self, scores: Sequence[float]) -> float:
        """Probability that the best of these ranked article scores is right."""
        if not scores:
            return 0.0
        top, margin, lift = score_features(scores)
        z = self.bias + self.w_top * top + self.w_margin * margin + self.w_lift * lift
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# Fitted on examples/cases.jsonl (82 dev cases) with all-MiniLM-L6-v2, passages
# of 40-60 words (kb_index.chunking).
MINILM = Calibration(bias=-3.04, w_top=3.646, w_margin=4.872, w_lift=6.528)
# Hand-set for the hashed bag of words used in tests: the same or nearly the same
# wording scores > 0.8, unrelated text < 0.2.
HASH = Calibration(bias=-6.0, w_top=9.0, w_margin=6.0)


def calibration_for(embedder_name: str) -> Calibration:
    """The default calibration for an embedder, by its ``name``."""
    if embedder_name.startswith("hash"):
        return HASH
    return MINILM


def fit_calibration(
    score_lists: Sequence[Sequence[float]],
    labels: Sequence[bool],
    *,
    l2: float = 0.001,
    iterations: int = 100,
) -> Calibration:
    """Fit the constants: logistic regression of ``labels`` on the features."""
    if len(score_lists) != len(labels):
        raise ValueError("one label per score list")
    if not labels or len(set(labels)) < 2:
        raise ValueError("need cases with both outcomes (some right, some wrong) to fit")
    feats = np.asarray([score_features(s) for s in score_lists], dtype=np.float64)
    x = np.hstack([np.ones((len(feats), 1)), feats])
    y = np.asarray(labels, dtype=np.float64)
    ridge = np.diag([0.0, l2, l2, l2])
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (p - y) / len(y) + ridge @ w
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    bias, w_top, w_margin, w_lift = (round(float(v), 3) for v in w)
    return Calibration(bias=bias, w_top=w_top, w_margin=w_margin, w_lift=w_lift)
