"""``guichet kb eval``: exit codes and what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config import Settings
from kb_index.versions import current_version
from tests.gateway.kb.conftest import run_kb


def _cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    rows = [
        {"id": "1", "text": "Reset your password", "expected": "password-reset", "kind": "en"},
        {"id": "2", "text": "xyzzy quantum banana", "expected": None, "kind": "oos"},
        {"id": "3", "text": "Refunds", "expected": "password-reset", "kind": "en"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def test_eval_json_and_predictions(
    kb_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pred = tmp_path / "pred.jsonl"
    code = run_kb(kb_settings, "eval", "--cases", str(_cases(tmp_path)), "--threshold", "0.5",
               "--predictions", str(pred), "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["threshold"] == 0.5
    assert summary["overall"]["top1"] == 0.5 and summary["overall"]["precision"] == 0.5
    assert len(pred.read_text().splitlines()) == 3
    assert current_version(kb_settings.index_path) is None  # eval never touches the index


def test_eval_table_sweep_and_fit(
    kb_settings: Settings, kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = str(_cases(tmp_path))
    kb_settings.bot.answer_threshold = 0.42
    assert run_kb(kb_settings, "eval", "--kb", str(kb_dir), "--cases", cases) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "threshold 0.42" in out  # default: bot.answer_threshold
    assert run_kb(kb_settings, "eval", "--cases", cases, "--sweep", "0.2,0.9") == 0
    out = capsys.readouterr().out
    assert "0.2" in out and "0.9" in out
    assert run_kb(kb_settings, "eval", "--cases", cases, "--fit-calibration", "--json") == 0
    assert "Calibration(" in capsys.readouterr().err


def test_eval_bad_cases_file(
    kb_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "q"}\n', "utf-8")
    assert run_kb(kb_settings, "eval", "--cases", str(bad)) == 1
    assert "line 1" in capsys.readouterr().err
    assert run_kb(kb_settings, "eval", "--cases", str(tmp_path / "none.jsonl")) == 1
