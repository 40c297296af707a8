"""``guichet kb index|search`` (:mod:`kb_index.cli`): exit codes and what they print.

The commands are registered on a parser of their own and run with a
:class:`~kb_index.config.KBConfig`: the library needs no application around it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kb_index.cli import add_index_commands, build_default_index, run_index_command
from kb_index.config import KBConfig
from kb_index.versions import current_version


@pytest.fixture
def config(kb_dir: Path, tmp_path: Path) -> KBConfig:
    return KBConfig(source_dir=kb_dir, index_dir=tmp_path / "index", embedder="hash")


def run_kb(config: KBConfig, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="guichet kb")
    add_index_commands(parser.add_subparsers(dest="kb_command", required=True))
    return run_index_command(parser.parse_args(list(argv)), config)


def test_index_reports_broken_files_and_indexes_the_rest(
    config: KBConfig, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "broken.md").write_text("---\nid: x\n---\nBody\n", "utf-8")
    assert run_kb(config, "index") == 0
    out, err = capsys.readouterr()
    assert "4 articles" in out
    assert str(kb_dir / "broken.md") in err and "missing required field 'title'" in err
    assert "1 warning" in err
    assert current_version(config.index_dir) is not None


def test_index_strict_fails_on_any_broken_file(
    config: KBConfig, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "bad.csv").write_text("id,q,a\n", "utf-8")
    assert run_kb(config, "index", "--strict") == 1
    _, err = capsys.readouterr()
    assert str(kb_dir / "bad.csv") in err and "bad CSV header" in err
    assert current_version(config.index_dir) is None


def test_index_options_override_the_config(
    config: KBConfig, kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_kb(config, "index", "--kb", str(kb_dir), "--index", str(tmp_path / "i2")) == 0
    assert current_version(tmp_path / "i2") is not None
    assert run_kb(config, "index", "--kb", str(tmp_path / "missing")) == 1
    assert "not found" in capsys.readouterr().err


def test_search(config: KBConfig, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_kb(config, "search", "Is delivery free?") == 1  # no index yet
    assert "guichet kb index" in capsys.readouterr().err
    run_kb(config, "index")
    version = current_version(config.index_dir)
    capsys.readouterr()
    assert run_kb(config, "search", "Is delivery free?", "-k", "2") == 0
    out = capsys.readouterr().out
    assert "shipping" in out and f"index version {version}" in out and "confidence" in out
    assert run_kb(config, "search", "Is delivery free?", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["index_version"] == version and data["hits"][0]["article_id"] == "shipping"


def test_unknown_command(config: KBConfig, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_index_command(argparse.Namespace(kb_command="eval"), config) == 2
    assert "usage: guichet kb {index,search}" in capsys.readouterr().err


def test_build_default_index(
    config: KBConfig, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "broken.md").write_text("no front matter", "utf-8")
    report = build_default_index(config)
    assert current_version(config.index_dir) == report.version
    assert report.article_count == 4
    assert "broken.md" in capsys.readouterr().err
