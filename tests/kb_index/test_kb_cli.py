"""``guichet kb index|search|eval`` handlers: exit codes and what they print."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from gateway.config import Settings
from kb_index.cli import build_default_index, run_kb_command
from kb_index.versions import current_version
from tests.kb_index.conftest import run_kb


@pytest.fixture
def kb_settings(settings: Settings, kb_dir: Path) -> Settings:
    settings.kb.source_dir = str(kb_dir)
    return settings


def test_index_reports_broken_files_and_indexes_the_rest(
    kb_settings: Settings, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "broken.md").write_text("---\nid: x\n---\nBody\n", "utf-8")
    assert run_kb(kb_settings, "index") == 0
    out, err = capsys.readouterr()
    assert "4 articles" in out
    assert str(kb_dir / "broken.md") in err and "missing required field 'title'" in err
    assert "1 warning" in err
    assert current_version(kb_settings.index_path) is not None


def test_index_strict_fails_on_any_broken_file(
    kb_settings: Settings, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "bad.csv").write_text("id,q,a\n", "utf-8")
    assert run_kb(kb_settings, "index", "--strict") == 1
    _, err = capsys.readouterr()
    assert str(kb_dir / "bad.csv") in err and "bad CSV header" in err
    assert current_version(kb_settings.index_path) is None


def test_index_options_override_settings(
    settings: Settings, kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_kb(settings, "index", "--kb", str(kb_dir), "--index", str(tmp_path / "i2")) == 0
    assert current_version(tmp_path / "i2") is not None
    assert run_kb(settings, "index", "--kb", str(tmp_path / "missing")) == 1
    assert "not found" in capsys.readouterr().err


def test_search(kb_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_kb(kb_settings, "search", "Is delivery free?") == 1  # no index yet
    assert "guichet kb index" in capsys.readouterr().err
    run_kb(kb_settings, "index")
    version = current_version(kb_settings.index_path)
    capsys.readouterr()
    assert run_kb(kb_settings, "search", "Is delivery free?", "-k", "2") == 0
    out = capsys.readouterr().out
    assert "shipping" in out and f"index version {version}" in out and "confidence" in out
    assert run_kb(kb_settings, "search", "Is delivery free?", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["index_version"] == version and data["hits"][0]["article_id"] == "shipping"


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


def test_unknown_command(settings: Settings) -> None:
    assert run_kb_command(argparse.Namespace(kb_command=None), settings) == 2


def test_build_default_index(
    kb_settings: Settings, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "broken.md").write_text("no front matter", "utf-8")
    report = build_default_index(kb_settings)
    assert current_version(kb_settings.index_path) == report.version
    assert report.article_count == 4
    assert "broken.md" in capsys.readouterr().err
