"""``guichet kb index`` and ``guichet kb search``: the commands that need the index
and nothing else.

The application creates the ``kb`` parser, passes its subparsers action to
:func:`add_index_commands`, and calls :func:`run_index_command` with the parsed
arguments and a :class:`~kb_index.config.KBConfig` (``gateway.kb.commands`` does,
beside the commands that run the bot: ``eval``, ``tune``, ``gaps``).  Handlers
return the process exit code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kb_index.calibration import FEATURES
from kb_index.config import KBConfig
from kb_index.retriever import KBRetriever
from kb_index.sources import SourceLoadError
from kb_index.versions import BuildReport, build_index

COMMANDS = ("index", "search")


def add_index_commands(subparsers: Any) -> None:
    """Register ``index`` and ``search`` on the ``kb`` parser's subparsers."""
    p = subparsers.add_parser("index", help="build a new index version from the KB sources")
    p.add_argument("--kb", dest="kb_dir", help="KB source directory (default: kb.source_dir)")
    p.add_argument("--index", dest="index_dir", help="index directory (default: kb.index_dir)")
    p.add_argument("--strict", action="store_true", help="fail (exit 1) on any broken file")
    p.set_defaults(kb_command="index")

    p = subparsers.add_parser("search", help="search the live index")
    p.add_argument("text", help="the question")
    p.add_argument("-k", type=int, default=5, help="number of articles (default 5)")
    p.add_argument("--index", dest="index_dir", help="index directory (default: kb.index_dir)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(kb_command="search")


def run_index_command(args: argparse.Namespace, config: KBConfig) -> int:
    handlers = {"index": _cmd_index, "search": _cmd_search}
    handler = handlers.get(getattr(args, "kb_command", "") or "")
    if handler is None:
        Console(stderr=True).print(f"usage: guichet kb {{{','.join(COMMANDS)}}} ...")
        return 2
    return handler(args, config)


def build_default_index(config: KBConfig, *, strict: bool = False) -> BuildReport:
    """Index ``config.source_dir`` into ``config.index_dir`` (used by ``guichet serve
    --index-if-missing``); broken sources are printed as warnings and left out."""
    report = build_index(config.source_dir, config.index_dir, config.make_embedder(),
                         strict=strict, terms=config.make_term_encoder())
    print_report(report)
    return report


def print_report(report: BuildReport) -> None:
    out, err = Console(), Console(stderr=True)
    for error in report.errors:
        err.print(f"[yellow]warning[/] {escape(error.path)}: {escape(error.reason)}",
                  soft_wrap=True)
    out.print(
        f"index version {report.version}: {report.article_count} articles, "
        f"{report.chunk_count} chunks in {report.seconds:.1f}s → {escape(str(report.path))}",
        soft_wrap=True,
    )
    if report.skipped:
        out.print(f"{len(report.skipped)} file(s) skipped (not .md, .csv or .jsonl)")
    if report.errors:
        err.print(f"[yellow]{len(report.errors)} warning(s): broken sources left out[/]")
    if report.article_count == 0:
        err.print("[yellow]warning: the index holds no article; the bot will hand off[/]")


def _cmd_index(args: argparse.Namespace, config: KBConfig) -> int:
    err = Console(stderr=True)
    kb_dir = args.kb_dir or config.source_dir
    index_dir = Path(args.index_dir) if args.index_dir else config.index_dir
    try:
        report = build_index(kb_dir, index_dir, config.make_embedder(), strict=args.strict,
                             terms=config.make_term_encoder())
    except SourceLoadError as exc:
        for error in exc.errors:
            err.print(f"[red]error[/] {escape(error.path)}: {escape(error.reason)}", soft_wrap=True)
        err.print(f"[red]{len(exc.errors)} broken file(s); --strict: index not built[/]")
        return 1
    except FileNotFoundError as exc:
        err.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    print_report(report)
    return 0


def _cmd_search(args: argparse.Namespace, config: KBConfig) -> int:
    out = Console()
    index_dir = Path(args.index_dir) if args.index_dir else config.index_dir
    retriever = KBRetriever(index_dir, config.make_embedder(), terms=config.make_term_encoder())
    try:
        result = retriever.search_sync(args.text, k=args.k)
    finally:
        retriever.close()
    if result.extras.get("status") == "no_index":
        Console(stderr=True).print(f"[red]{escape(str(result.extras.get('detail')))}[/]")
        return 1
    if args.json:
        hits = [{"article_id": h.article_id, "title": h.title, "score": round(h.score, 4),
                 "lang": h.lang, "matched": h.matched} for h in result.hits]
        out.print_json(json.dumps({"index_version": result.index_version,
                                   "confidence": round(result.confidence, 4), "hits": hits,
                                   "features": {k: result.extras.get(k) for k in FEATURES},
                                   "calibration": result.extras.get("calibration")}))
        return 0
    feats = " ".join(f"{k} {result.extras[k]:g}" for k in FEATURES if k in result.extras)
    table = Table(title=f"confidence {result.confidence:.3f} · index version "
                  f"{result.index_version}", title_justify="left", caption=f"features: {feats}",
                  caption_justify="left")
    for name in ("#", "article", "score", "lang", "title", "matched"):
        table.add_column(name, justify="right" if name in ("#", "score") else "left")
    for rank, hit in enumerate(result.hits, start=1):
        matched = hit.matched if len(hit.matched) <= 80 else hit.matched[:77] + "..."
        table.add_row(str(rank), escape(hit.article_id), f"{hit.score:.3f}", hit.lang,
                      escape(hit.title), escape(matched.replace("\n", " · ")))
    out.print(table)
    return 0
