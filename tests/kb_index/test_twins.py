"""Translations of one topic are ranked as one (kb_index.twins): found from the
articles' vectors with no metadata, shown in the question's language, and the
confidence's margin measured against the next topic, not against the translation."""

from __future__ import annotations

import numpy as np
import pytest

from kb_index.calibration import features_of
from kb_index.twins import article_vectors, find_twins, index_twins, merge_twins, same_topic

LANG = {"refund": "en", "remboursement": "fr", "delivery": "en", "livraison": "fr",
        "account-deletion": "en", "resiliation": "fr", "returns": "en", "export-donnees": "fr"}


def _unit(*parts: tuple[int, float]) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    for i, x in parts:
        v[i] = x
    return v / np.linalg.norm(v)


def _matrix() -> tuple[list[str], np.ndarray]:
    vectors = {
        "refund": _unit((0, 1.0), (5, 0.3)), "remboursement": _unit((0, 1.0), (6, 0.3)),  # translations
        "delivery": _unit((1, 1.0), (7, 0.2)), "livraison": _unit((1, 1.0), (6, 0.25)),  # translations
        # related but distinct: close, but barely closer than the next French article
        "account-deletion": _unit((2, 1.0)), "resiliation": _unit((2, 0.8), (3, 0.6)),
        "export-donnees": _unit((2, 0.75), (4, 0.66)),
        "returns": _unit((0, 0.6), (5, 1.0)),  # no French version
    }
    names = sorted(vectors)
    return names, np.stack([vectors[n] for n in names])


def test_translated_pairs_are_found_and_related_topics_are_not() -> None:
    names, matrix = _matrix()
    twins = find_twins(names, matrix, LANG, min_cosine=0.65, min_gap=0.1)
    assert twins == {"refund": "remboursement", "remboursement": "refund",
                     "delivery": "livraison", "livraison": "delivery"}
    # the same pair with a low gap requirement is taken: the gap is what keeps it out
    assert "account-deletion" in find_twins(names, matrix, LANG, min_cosine=0.65, min_gap=0.0)


def test_articles_without_a_language_are_never_twins() -> None:
    names, matrix = _matrix()
    assert find_twins(names, matrix, {n: "" for n in names}) == {}
    assert index_twins([], np.zeros((0, 8), np.float32), LANG) == {}


def test_article_vectors_are_unit_means_of_their_chunks() -> None:
    rows = ["b", "a", "b"]
    vectors = np.asarray([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
    names, matrix = article_vectors(rows, vectors)
    assert names == ["a", "b"]
    assert matrix[1] == pytest.approx(np.asarray([1, 1]) / np.sqrt(2))


def test_a_pair_ranks_once_in_the_question_language_with_the_better_score() -> None:
    twins = {"refund": "remboursement", "remboursement": "refund"}
    fused = [("refund", 0.62), ("remboursement", 0.60), ("returns", 0.41), ("delivery", 0.30)]
    assert merge_twins(fused, twins, "fr", LANG) == [("remboursement", 0.62), ("returns", 0.41),
                                                     ("delivery", 0.30)]
    assert merge_twins(fused, twins, "en", LANG)[0] == ("refund", 0.62)
    assert merge_twins(fused, twins, "", LANG)[0] == ("refund", 0.62)  # language unknown: as ranked
    assert merge_twins(fused, {}, "fr", LANG) == fused


def test_the_margin_is_against_the_next_topic() -> None:
    twins = {"refund": "remboursement", "remboursement": "refund"}
    fused = [("refund", 0.62), ("remboursement", 0.60), ("returns", 0.41)]
    apart = features_of([s for _, s in fused], agree=True, coverage=0.5)
    merged = features_of([s for _, s in merge_twins(fused, twins, "fr", LANG)], agree=True, coverage=0.5)
    assert apart["margin"] == pytest.approx(0.02)
    assert merged["margin"] == pytest.approx(0.21)


def test_an_engine_agreeing_on_the_translation_agrees() -> None:
    twins = {"refund": "remboursement", "remboursement": "refund"}
    assert same_topic("refund", "remboursement", twins)
    assert same_topic("refund", "refund", {})
    assert not same_topic("refund", "returns", twins)
    assert not same_topic("", "", twins)
