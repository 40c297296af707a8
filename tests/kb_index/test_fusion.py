"""Fusion of dense and BM25 scores per article."""

from __future__ import annotations

import pytest

from kb_index.fusion import FusionConfig, aggregate, fuse


def test_weighted_fusion_mixes_both_sides_on_their_absolute_scale() -> None:
    dense = {"a": 0.8, "b": 0.6}
    lexical = {"b": 1.0}
    fused = dict(fuse(dense, lexical, FusionConfig(lexical_weight=0.5)))
    assert fused["a"] == pytest.approx(0.4)  # no query word matched: lexical 0
    assert fused["b"] == pytest.approx(0.8)
    assert [a for a, _ in fuse(dense, lexical, FusionConfig(lexical_weight=0.5))] == ["b", "a"]


def test_weights_zero_and_one_are_dense_only_and_bm25_only() -> None:
    dense, lexical = {"a": 0.9, "b": 0.5}, {"b": 0.7}
    assert fuse(dense, lexical, FusionConfig(lexical_weight=0.0))[0] == ("a", pytest.approx(0.9))
    assert fuse(dense, lexical, FusionConfig(lexical_weight=1.0))[0] == ("b", pytest.approx(0.7))


def test_an_article_found_by_bm25_only_gets_the_lowest_dense_score_seen() -> None:
    fused = dict(fuse({"a": 0.7, "b": 0.3}, {"c": 1.0}, FusionConfig(lexical_weight=0.2)))
    assert fused["c"] == pytest.approx(0.8 * 0.3 + 0.2 * 1.0)


def test_rrf_uses_ranks_only() -> None:
    config = FusionConfig(method="rrf", rrf_k=60)
    fused = dict(fuse({"a": 0.9, "b": 0.1}, {"b": 0.2, "a": 0.1}, config))
    assert fused["a"] == pytest.approx(fused["b"])  # first once, second once
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)


def test_ties_are_broken_by_article_id_and_empty_inputs_give_nothing() -> None:
    assert [a for a, _ in fuse({"b": 0.5, "a": 0.5}, {})] == ["a", "b"]
    assert fuse({}, {}) == []


def test_aggregate_takes_the_mean_of_the_best_chunks() -> None:
    pairs = [("a", 0.9), ("a", 0.5), ("a", 0.1), ("b", 0.6)]
    assert aggregate(pairs, 1) == {"a": pytest.approx(0.9), "b": pytest.approx(0.6)}
    assert aggregate(pairs, 2) == {"a": pytest.approx(0.7), "b": pytest.approx(0.6)}


@pytest.mark.parametrize("kwargs", [{"method": "max"}, {"lexical_weight": 1.5}, {"top_m": 0}])
def test_bad_configurations_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FusionConfig(**kwargs)  # type: ignore[arg-type]
