"""``guichet kb tune``: exit codes, the curve it prints, the plot and the config edit."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.gateway.kb.conftest import run_kb

CASES = [
    {"id": "c1", "text": "Reset your password", "expected": "password-reset"},
    {"id": "c2", "text": "Is delivery free?", "expected": "shipping"},
    {"id": "c3", "text": "Comment suivre mon colis ?", "expected": "livraison"},
    {"id": "c4", "text": "Refunds for yearly plans", "expected": "refunds"},
    {"id": "c5", "text": "xyzzy quantum banana", "expected": None, "kind": "oos"},
]
HOLDOUT = [
    {"id": "h1", "text": "Shipping costs", "expected": "shipping"},
    {"id": "h2", "text": "galaxy spaceship", "expected": None},
]


def _cases(path: Path, rows: list[dict[str, object]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return str(path)


def test_tune_writes_the_threshold_prints_the_curve_and_reports_the_holdout(
    kb_settings: Settings, kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "guichet.toml"  # also read: its [kb] section says which KB and embedder
    config.write_text(f'# mine\n[bot]\nanswer_threshold = 0.123  # old\n\n[kb]\nembedder = "hash"\n'
                      f'source_dir = "{kb_dir}"\n', "utf-8")
    kb_settings.kb.source_dir = "/nonexistent"
    plot = tmp_path / "curve.png"
    code = run_kb(kb_settings, "tune", "--cases", _cases(tmp_path / "c.jsonl", CASES),
               "--holdout", _cases(tmp_path / "h.jsonl", HOLDOUT), "--target-precision", "0.95",
               "--config", str(config), "--plot", str(plot))
    out = capsys.readouterr().out
    assert code == 0
    assert "precision / coverage by threshold" in out and "◀ chosen" in out
    assert "Holdout" in out and "h.jsonl" in out
    text = config.read_text("utf-8")
    threshold = tomllib.loads(text)["bot"]["answer_threshold"]
    assert 0.0 < threshold < 1.0 and threshold != 0.123
    assert f"chosen threshold {threshold:g}" in out
    assert text.startswith("# mine\n[bot]\n") and "  # old" in text and 'embedder = "hash"' in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tune_json_reaches_the_target_on_the_dev_cases(
    kb_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "created.toml"
    code = run_kb(kb_settings, "tune", "--cases", _cases(tmp_path / "c.jsonl", CASES),
               "--config", str(config), "--json")
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["dev"]["overall"]["precision"] >= 0.95
    assert payload["dev"]["threshold"] == payload["threshold"]
    assert tomllib.loads(config.read_text("utf-8")) == {"bot": {"answer_threshold": payload["threshold"]}}
    assert payload["holdout"] is None and len(payload["curve"]) >= 19


def test_no_threshold_reaching_the_target_exits_3_and_writes_nothing(
    kb_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = [{"id": "w1", "text": "Reset your password", "expected": "refunds"},
             {"id": "w2", "text": "Is delivery free?", "expected": "refunds"}]
    config = tmp_path / "guichet.toml"
    code = run_kb(kb_settings, "tune", "--cases", _cases(tmp_path / "c.jsonl", wrong),
               "--config", str(config))
    assert code == 3
    assert "No threshold reaches 95.0% precision" in capsys.readouterr().out
    assert not config.exists()


def test_without_a_config_file_the_threshold_is_only_printed(
    kb_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUICHET_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_kb(kb_settings, "tune", "--cases", _cases(tmp_path / "c.jsonl", CASES)) == 0
    assert "not written" in capsys.readouterr().out
    assert list(tmp_path.glob("*.toml")) == []


@pytest.mark.parametrize("argv, message", [
    (["--cases", "missing.jsonl"], "cannot read cases file"),
    (["--cases", "CASES", "--target-precision", "1.5"], "--target-precision"),
    (["--cases", "CASES", "--kb", "/nonexistent/kb"], "not found"),
])
def test_bad_input_exits_1(
    kb_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    cases = _cases(tmp_path / "c.jsonl", CASES)
    argv = [cases if a == "CASES" else str(tmp_path / a) if a.endswith(".jsonl") else a for a in argv]
    assert run_kb(kb_settings, "tune", *argv) == 1
    assert message in capsys.readouterr().err
