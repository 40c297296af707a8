"""The ``guichet kb`` commands run as the command line runs them, on a tiny KB."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import Settings
from tests.kb_index.conftest import write_kb


def run_kb(settings: Settings, *argv: str) -> int:
    """``guichet kb ARGV...`` parsed by the real command line, run with ``settings``."""
    from gateway.cli import build_parser
    from gateway.kb.commands import run_kb_command

    return run_kb_command(build_parser().parse_args(["kb", *argv]), settings)


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A tiny valid KB: 4 articles in 4 formats (TOML, YAML, CSV, JSONL)."""
    return write_kb(tmp_path / "kb")


@pytest.fixture
def kb_settings(settings: Settings, kb_dir: Path) -> Settings:
    settings.kb.source_dir = str(kb_dir)
    return settings
