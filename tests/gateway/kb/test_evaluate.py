"""Evaluation through gateway.flow.policy.decide, on a tiny KB with known figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.kb.evaluate import evaluate
from kb_index.embedder import HashEmbedder
from kb_index.evaluate import CaseFileError
from kb_index.versions import build_index, current_version


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(dim=256)


CASES: list[dict[str, object]] = [
    # answered and right
    {"id": "c1", "text": "Reset your password", "expected": "password-reset", "kind": "en"},
    {"id": "c2", "text": "Is delivery free?", "expected": "shipping", "kind": "en"},
    {"id": "c3", "text": "Comment suivre mon colis ?", "expected": "livraison", "kind": "fr"},
    # right top hit, but not confident enough: handed off
    {"id": "c4", "text": "How can I get a refund for my yearly plan?", "expected": "refunds",
     "kind": "en"},
    # answered, wrong article
    {"id": "c5", "text": "Refunds", "expected": "password-reset", "kind": "en"},
    # out of scope: handed off / answered (wrong) / small talk
    {"id": "c6", "text": "xyzzy quantum banana", "expected": None, "kind": "oos"},
    {"id": "c7", "text": "Shipping costs", "expected": None, "kind": "oos"},
    {"id": "c8", "text": "hello", "expected": None, "kind": "oos"},
]


def _write_cases(path: Path, cases: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), "utf-8")
    return path


def test_figures_on_a_tiny_kb(kb_dir: Path, tmp_path: Path, embedder: HashEmbedder) -> None:
    cases = _write_cases(tmp_path / "cases.jsonl", CASES)
    predictions = tmp_path / "pred.jsonl"
    report = evaluate(kb_dir, cases, embedder, 0.5, predictions)

    o = report.overall
    assert (o.cases, o.answerable, o.null_cases) == (8, 5, 3)
    assert o.answered == 5  # c1 c2 c3 c5 c7
    assert o.coverage == pytest.approx(4 / 5)  # c1 c2 c3 c5 of 5 answerable
    assert o.precision == pytest.approx(3 / 5)  # c1 c2 c3 right; c5, c7 wrong
    assert o.top1 == pytest.approx(4 / 5)  # c4's top hit is right despite the hand-off
    assert o.null_handoff_rate == pytest.approx(1 / 3)  # c6; c7 answered, c8 small talk

    en, fr, oos = report.by_kind["en"], report.by_kind["fr"], report.by_kind["oos"]
    assert (en.coverage, en.precision, en.top1) == (pytest.approx(3 / 4), pytest.approx(2 / 3),
                                                    pytest.approx(3 / 4))
    assert (fr.coverage, fr.precision, fr.top1) == (1.0, 1.0, 1.0)
    assert oos.coverage is None and oos.top1 is None
    assert oos.precision == 0.0 and oos.null_handoff_rate == pytest.approx(1 / 3)

    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [r["id"] for r in rows] == [c["id"] for c in CASES]
    assert set(rows[0]) == {"id", "answer", "action", "confidence"}
    by_id = {r["id"]: r for r in rows}
    assert by_id["c1"]["answer"] == "password-reset" and by_id["c1"]["action"] == "answer"
    assert by_id["c4"] == {**by_id["c4"], "answer": None, "action": "handoff"}
    assert by_id["c5"]["answer"] == "refunds"
    assert by_id["c8"] == {"id": "c8", "answer": None, "action": "smalltalk", "confidence": 0.0}

    summary = json.loads(report.to_json())
    assert summary["overall"]["precision"] == 0.6 and summary["threshold"] == 0.5
    assert set(summary["by_kind"]) == {"en", "fr", "oos"}


def test_threshold_moves_coverage_and_precision(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    cases = _write_cases(tmp_path / "cases.jsonl", CASES)
    strict = evaluate(kb_dir, cases, embedder, 0.999)
    lax = evaluate(kb_dir, cases, embedder, 0.0)
    assert strict.overall.answered < 5 < lax.overall.answered
    assert lax.overall.coverage == 1.0
    assert lax.overall.top1 == strict.overall.top1  # top-1 ignores the threshold


def test_the_live_index_is_untouched(kb_dir: Path, tmp_path: Path, embedder: HashEmbedder,
                                     ) -> None:
    live = tmp_path / "index"
    version = build_index(kb_dir, live, embedder, progress=False).version
    evaluate(kb_dir, _write_cases(tmp_path / "c.jsonl", CASES[:2]), embedder, 0.5)
    assert current_version(live) == version
    assert len(list((live / "versions").iterdir())) == 1


def test_exclude_kinds(kb_dir: Path, tmp_path: Path, embedder: HashEmbedder) -> None:
    cases = _write_cases(tmp_path / "cases.jsonl", CASES)
    report = evaluate(kb_dir, cases, embedder, 0.5, exclude_kinds=["oos"])
    assert report.overall.cases == 5 and set(report.by_kind) == {"en", "fr"}


def test_unknown_expected_article_is_named(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    cases = _write_cases(tmp_path / "cases.jsonl",
                         [*CASES[:2], {"id": "x", "text": "q", "expected": "nope"}])
    with pytest.raises(CaseFileError, match="line 3: expected article 'nope' is not in"):
        evaluate(kb_dir, cases, embedder, 0.5)
