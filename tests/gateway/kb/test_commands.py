"""The ``guichet kb`` command group: every command registered, dispatched with the
settings, and the index built for ``guichet serve --index-if-missing``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import Settings
from gateway.kb.commands import build_default_index, kb_config, run_kb_command
from kb_index.versions import current_version
from tests.gateway.kb.conftest import run_kb


def test_every_kb_command_is_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["kb", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("index", "search", "eval", "tune", "gaps"))


def test_kb_config_is_the_kb_section(settings: Settings) -> None:
    settings.kb.term_bridge = "off"
    settings.kb.threads = 3
    config = kb_config(settings)
    assert (config.source_dir, config.index_dir) == (settings.kb.source_dir, settings.index_path)
    assert (config.embedder, config.threads, config.term_bridge) == ("hash", 3, "off")
    assert config.make_embedder().name == "hash-256" and config.make_term_encoder() is None


def test_index_and_search_run_with_the_settings(
    kb_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_kb(kb_settings, "index") == 0
    assert current_version(kb_settings.index_path) is not None
    assert run_kb(kb_settings, "search", "Is delivery free?", "-k", "1") == 0
    assert "shipping" in capsys.readouterr().out


def test_unknown_command(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_kb_command(argparse.Namespace(kb_command=None), settings) == 2
    assert "usage: guichet kb {index,search,eval,tune,gaps,calibrate}" in capsys.readouterr().err


def test_build_default_index(
    kb_settings: Settings, kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "broken.md").write_text("no front matter", "utf-8")
    report = build_default_index(kb_settings)
    assert current_version(kb_settings.index_path) == report.version
    assert report.article_count == 4
    assert "broken.md" in capsys.readouterr().err
