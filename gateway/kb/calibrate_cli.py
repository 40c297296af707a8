"""``guichet kb calibrate``: refit the bot's confidence from production feedback
(:mod:`gateway.kb.feedback`, :mod:`kb_index.feedback_fit`) and print what changed.

The refitted weights are kept beside the index versions and a new version is built
with them (embeddings come from the cache), so the running bot switches to it
atomically like after any re-index.  ``--dry-run`` prints the report only.

Exit codes: 0 refitted (or dry run), 1 bad input (no index), 3 too few labelled
answers to fit (nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.kb.feedback import load_feedback
from kb_index.feedback_fit import MIN_LABELS, Feedback, Refit, refit, save_model

TOO_FEW = 3
DEFAULT_DAYS = 90.0


def add_calibrate_command(subparsers: Any) -> None:
    p = subparsers.add_parser("calibrate", help="refit the bot's confidence from customer feedback")
    p.add_argument("--days", type=float, default=DEFAULT_DAYS,
                   help=f"feedback of the last N days (default {DEFAULT_DAYS:g})")
    p.add_argument("--dry-run", action="store_true", help="print the report, change nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(kb_command="calibrate")


async def _feedback(settings: Settings, days: float) -> list[Feedback]:
    from gateway.db.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        return await load_feedback(make_session_factory(engine), SystemClock().now() - timedelta(days=days))
    finally:
        await engine.dispose()


def run_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.db.migrate import upgrade
    from kb_index.cli import build_default_index
    from kb_index.config import KBConfig
    from kb_index.embedder import make_embedder, make_term_encoder
    from kb_index.retriever import KBRetriever

    err = Console(stderr=True)
    upgrade(settings.database_url)
    feedback = asyncio.run(_feedback(settings, args.days))
    embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
    retriever = KBRetriever(settings.index_path, embedder, terms=make_term_encoder(settings.kb.term_bridge))
    try:
        loaded = retriever.loaded
        if loaded is None:
            err.print(f"[red]error[/] {escape(retriever.last_error or 'no index: run `guichet kb index`')}")
            return 1
        result = refit(retriever.calibration_of(loaded), feedback,
                       lambda q: retriever.search_sync(q, k=settings.bot.top_k))
    finally:
        retriever.close()
    threshold = settings.bot.answer_threshold
    new_version = ""
    if result.after is not None and not args.dry_run:
        save_model(settings.index_path, result.after)
        kb = settings.kb
        config = KBConfig(kb.source_dir, settings.index_path, kb.embedder, kb.model, kb.threads,
                          kb.term_bridge)
        new_version = build_default_index(config).version
    if args.json:
        print(json.dumps({**result.summary(threshold), "feedback": len(feedback),
                          "index_version": new_version or None, "dry_run": args.dry_run}))
    else:
        _render(Console(), result, len(feedback), threshold, new_version, args.dry_run)
    return 0 if result.after is not None else TOO_FEW


def _render(out: Console, result: Refit, feedback: int, threshold: float, version: str, dry: bool) -> None:
    out.print(f"{feedback} feedback answers read: {result.labels} usable "
              f"({result.positives} helpful), {result.skipped} whose question now finds another article")
    if result.after is None:
        out.print(f"[yellow]fewer than {MIN_LABELS} usable labels: the calibration is unchanged[/]")
        return
    summary = result.summary(threshold)
    table = Table(title=f"calibration: {escape(result.before.name)} → {escape(result.after.name)}",
                  title_justify="left")
    for name in ("", "before", "after"):
        table.add_column(name, justify="left" if not name else "right")
    table.add_row("bias", f"{result.before.bias:.3f}", f"{result.after.bias:.3f}")
    for feature in result.after.weights:
        table.add_row(feature, f"{result.before.weights.get(feature, 0.0):.3f}",
                      f"{result.after.weights[feature]:.3f}")
    before, after = summary["before"], summary["after"]
    table.add_row(f"answered at {threshold:g} (of the labelled)", str(before["answered"]),
                  str(after["answered"]))
    table.add_row("…of them helpful", str(before["right"]), str(after["right"]))
    out.print(table)
    if dry:
        out.print("dry run: nothing written")
    else:
        out.print(f"weights kept for later builds; index version {version} built with them")
