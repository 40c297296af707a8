"""The ``guichet kb`` command group: ``index`` and ``search`` (:mod:`kb_index.cli`,
the library's own commands), ``eval`` and ``tune`` (the bot measured on labelled
questions: :mod:`gateway.kb.eval_cli`, :mod:`gateway.kb.tune_cli`), ``gaps``
(:mod:`gateway.kb.loop_cli`) and ``calibrate`` (:mod:`gateway.kb.calibrate_cli`).

``gateway.cli`` creates the ``kb`` parser, passes its subparsers action to
:func:`add_kb_commands`, and calls :func:`run_kb_command` with the parsed arguments
and the loaded settings.  Handlers return the process exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console

from gateway.config import Settings
from gateway.kb.calibrate_cli import add_calibrate_command, run_calibrate
from gateway.kb.eval_cli import add_eval_command, run_eval
from gateway.kb.loop_cli import add_gaps_command, run_gaps
from gateway.kb.tune_cli import add_tune_command, run_tune
from kb_index.cli import COMMANDS as INDEX_COMMANDS
from kb_index.cli import add_index_commands, run_index_command
from kb_index.cli import build_default_index as build_index_from
from kb_index.config import KBConfig
from kb_index.versions import BuildReport

Handler = Callable[[argparse.Namespace, Settings], int]


def kb_config(settings: Settings) -> KBConfig:
    """The ``[kb]`` settings as the library takes them."""
    kb = settings.kb
    return KBConfig(source_dir=kb.source_dir, index_dir=settings.index_path, embedder=kb.embedder,
                    model=kb.model, threads=kb.threads, term_bridge=kb.term_bridge)


def _run_index(args: argparse.Namespace, settings: Settings) -> int:
    return run_index_command(args, kb_config(settings))


HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(INDEX_COMMANDS, _run_index),
    "eval": run_eval,
    "tune": run_tune,
    "gaps": run_gaps,
    "calibrate": run_calibrate,
}


def add_kb_commands(subparsers: Any) -> None:
    """Register ``index``, ``search``, ``eval``, ``tune`` and ``gaps`` on the ``kb``
    parser's subparsers."""
    add_index_commands(subparsers)
    add_eval_command(subparsers)
    add_tune_command(subparsers)
    add_gaps_command(subparsers)
    add_calibrate_command(subparsers)


def run_kb_command(args: argparse.Namespace, settings: Settings) -> int:
    handler = HANDLERS.get(getattr(args, "kb_command", "") or "")
    if handler is None:
        Console(stderr=True).print(f"usage: guichet kb {{{','.join(HANDLERS)}}} ...")
        return 2
    return handler(args, settings)


def build_default_index(settings: Settings, *, strict: bool = False) -> BuildReport:
    """Index ``kb.source_dir`` into the configured index directory (``guichet serve
    --index-if-missing``); broken sources are printed as warnings and left out."""
    return build_index_from(kb_config(settings), strict=strict)
