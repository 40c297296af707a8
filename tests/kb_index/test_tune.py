"""Threshold choice on a hand-made curve, and the configuration line edit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kb_index.eval_report import CaseResult
from kb_index.tune import choose_threshold, curve, point_at, write_threshold


def case(n: int, confidence: float, right: bool, expected: str | None = "a") -> CaseResult:
    top = expected if right and expected else "wrong"
    return CaseResult(f"c{n}", "", expected, "answer", top, confidence, "", top)


# ten answerable cases and two out-of-scope ones, by confidence:
#   0.95 0.90 0.85 right · 0.80 wrong · 0.75 0.70 right · 0.60 oos · 0.55 right · 0.40 wrong
#   · 0.30 right · 0.20 oos · 0.10 right
CASES = [
    case(1, 0.95, True), case(2, 0.90, True), case(3, 0.85, True), case(4, 0.80, False),
    case(5, 0.75, True), case(6, 0.70, True), case(7, 0.60, False, None), case(8, 0.55, True),
    case(9, 0.40, False), case(10, 0.30, True), case(11, 0.20, False, None), case(12, 0.10, True),
    CaseResult("s", "", None, "smalltalk", None, 0.0, "greeting", None),  # never answered
]


def test_curve_counts_coverage_and_precision() -> None:
    p = point_at(CASES, 0.75)
    assert (p.answered, p.correct, p.covered, p.answerable) == (5, 4, 5, 10)
    assert p.coverage == pytest.approx(0.5) and p.precision == pytest.approx(0.8)
    assert point_at(CASES, 0.99).precision is None
    everything = point_at(CASES, 0.0)
    assert everything.answered == 12 and everything.correct == 8  # small talk is never answered
    assert [round(q.coverage, 2) for q in curve(CASES, [0.5, 0.9])] == [0.7, 0.2]


def test_picks_the_most_coverage_at_the_target_precision() -> None:
    choice = choose_threshold(CASES, 0.8)
    # at 0.70: 6 answers, 5 right (83 %); at 0.55: 8 answers, 6 right (75 %)
    assert choice.point is not None and choice.threshold is not None
    assert (choice.point.answered, choice.point.correct) == (6, 5)
    assert 0.60 < choice.threshold <= 0.70  # between the last accepted and the next case
    assert choice.threshold == 0.65


def test_a_strict_target_keeps_only_the_sure_cases() -> None:
    choice = choose_threshold(CASES, 1.0)
    assert choice.point is not None and (choice.point.answered, choice.point.correct) == (3, 3)
    assert 0.80 < (choice.threshold or 0) <= 0.85


def test_no_threshold_reaching_the_target_is_said() -> None:
    bad = [case(1, 0.9, False), case(2, 0.8, True), case(3, 0.7, False)]
    choice = choose_threshold(bad, 0.95)
    assert choice.threshold is None and choice.point is None
    assert choice.best_precision == pytest.approx(0.5)


CONFIG = """# Guichet settings
[server]
port = 8080  # the port

[bot]
# Answer only when the calibrated confidence is at least this (0..1).
answer_threshold = 0.7   # chosen by hand
top_k = 5

[kb]
source_dir = "examples/kb"
"""


def test_write_threshold_changes_one_line_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "guichet.toml"
    path.write_text(CONFIG, "utf-8")
    assert write_threshold(path, 0.82) == "updated"
    text = path.read_text("utf-8")
    assert text == CONFIG.replace("answer_threshold = 0.7   #", "answer_threshold = 0.82   #")
    assert tomllib.loads(text)["bot"]["answer_threshold"] == 0.82


def test_write_threshold_adds_the_key_or_the_section(tmp_path: Path) -> None:
    no_key = tmp_path / "a.toml"
    no_key.write_text("[bot]\nenabled = true\n[kb]\nthreads = 2\n", "utf-8")
    write_threshold(no_key, 0.6)
    data = tomllib.loads(no_key.read_text("utf-8"))
    assert data == {"bot": {"enabled": True, "answer_threshold": 0.6}, "kb": {"threads": 2}}

    no_section = tmp_path / "b.toml"
    no_section.write_text("[server]\nport = 9000", "utf-8")  # no final newline
    write_threshold(no_section, 1.0)
    assert tomllib.loads(no_section.read_text("utf-8")) == {
        "server": {"port": 9000}, "bot": {"answer_threshold": 1.0}}


def test_write_threshold_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "guichet.toml"
    assert write_threshold(path, 0.75) == "created"
    assert tomllib.loads(path.read_text("utf-8")) == {"bot": {"answer_threshold": 0.75}}


def test_a_file_it_cannot_edit_by_line_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "inline.toml"
    original = 'bot = { answer_threshold = 0.5 }\n'
    path.write_text(original, "utf-8")
    with pytest.raises(ValueError):
        write_threshold(path, 0.9)
    assert path.read_text("utf-8") == original
    broken = tmp_path / "broken.toml"
    broken.write_text("[bot\n", "utf-8")
    with pytest.raises(ValueError):
        write_threshold(broken, 0.9)
