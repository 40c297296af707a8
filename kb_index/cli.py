"""``guichet kb ...`` commands: index, search, eval.

``gateway.cli`` creates the ``kb`` parser, passes its subparsers action to
:func:`add_kb_commands`, and calls :func:`run_kb_command` with the parsed
arguments and the loaded settings.  Handlers return the process exit code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.config import Settings
from gateway.flow.policy import PolicyConfig
from kb_index.calibration import FEATURES, calibration_for, fit_calibration
from kb_index.embedder import Embedder, make_embedder, make_term_encoder
from kb_index.eval_report import add_metrics_row, metrics_table
from kb_index.evaluate import CaseFileError, evaluate, evaluate_many_async, write_predictions
from kb_index.retriever import KBRetriever
from kb_index.sources import SourceLoadError
from kb_index.tune_cli import add_tune_command, run_tune
from kb_index.versions import BuildReport, build_index


def add_kb_commands(subparsers: Any) -> None:
    """Register ``index``, ``search``, ``eval`` and ``tune`` on the ``kb`` parser's subparsers."""
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

    p = subparsers.add_parser("eval", help="measure the bot on labelled questions")
    p.add_argument("--kb", dest="kb_dir", help="KB source directory (default: kb.source_dir)")
    p.add_argument("--cases", required=True, help="cases file (JSON lines)")
    p.add_argument("--predictions", help="write one JSON line per case to this file")
    p.add_argument("--threshold", type=float, help="answer threshold (default: bot setting)")
    p.add_argument("--sweep", help="comma-separated thresholds: one summary row each")
    p.add_argument("--exclude-kind", action="append", default=[], metavar="KIND",
                   help="leave out cases of this kind (repeatable)")
    p.add_argument("--fit-calibration", action="store_true",
                   help="also fit confidence constants on these cases and print them")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(kb_command="eval")

    add_tune_command(subparsers)


def run_kb_command(args: argparse.Namespace, settings: Settings) -> int:
    handlers = {"index": _cmd_index, "search": _cmd_search, "eval": _cmd_eval, "tune": run_tune}
    handler = handlers.get(getattr(args, "kb_command", "") or "")
    if handler is None:
        Console(stderr=True).print("usage: guichet kb {index,search,eval,tune} ...")
        return 2
    return handler(args, settings)


def _embedder(settings: Settings) -> Embedder:
    return make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)


def _terms(settings: Settings) -> Embedder | None:
    return make_term_encoder(settings.kb.term_bridge)


def build_default_index(settings: Settings, *, strict: bool = False) -> BuildReport:
    """Index ``kb.source_dir`` into ``index_path`` (used by ``guichet serve
    --index-if-missing``); broken sources are printed as warnings and left out."""
    report = build_index(settings.kb.source_dir, settings.index_path, _embedder(settings),
                         strict=strict, terms=_terms(settings))
    _print_report(report)
    return report


def _print_report(report: BuildReport) -> None:
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


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    err = Console(stderr=True)
    kb_dir = args.kb_dir or settings.kb.source_dir
    index_dir = Path(args.index_dir) if args.index_dir else settings.index_path
    try:
        report = build_index(kb_dir, index_dir, _embedder(settings), strict=args.strict,
                             terms=_terms(settings))
    except SourceLoadError as exc:
        for error in exc.errors:
            err.print(f"[red]error[/] {escape(error.path)}: {escape(error.reason)}", soft_wrap=True)
        err.print(f"[red]{len(exc.errors)} broken file(s); --strict: index not built[/]")
        return 1
    except FileNotFoundError as exc:
        err.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    _print_report(report)
    return 0


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    out = Console()
    index_dir = Path(args.index_dir) if args.index_dir else settings.index_path
    retriever = KBRetriever(index_dir, _embedder(settings), terms=_terms(settings))
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


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    out, err = Console(), Console(stderr=True)
    kb_dir = args.kb_dir or settings.kb.source_dir
    embedder, terms, policy = _embedder(settings), _terms(settings), PolicyConfig.from_settings(settings.bot)
    threshold = args.threshold if args.threshold is not None else settings.bot.answer_threshold
    try:
        if args.sweep:
            thresholds = [float(t) for t in args.sweep.split(",") if t.strip()]
            reports = asyncio.run(evaluate_many_async(
                kb_dir, args.cases, embedder, thresholds, exclude_kinds=args.exclude_kind,
                terms=terms, policy=policy))
        else:
            reports = [evaluate(kb_dir, args.cases, embedder, threshold, args.predictions,
                                exclude_kinds=args.exclude_kind, progress=not args.json,
                                terms=terms, policy=policy)]
    except (CaseFileError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    if args.sweep and args.predictions:
        write_predictions(args.predictions, reports[-1].results)
    if args.json:
        payload: Any = [r.to_dict() for r in reports] if args.sweep else reports[0].to_dict()
        print(json.dumps(payload, ensure_ascii=False))
    elif args.sweep:
        first = reports[0]
        table = metrics_table(f"{first.embedder} · {first.article_count} articles · "
                              f"{first.cases_path}", "threshold")
        for report in reports:
            add_metrics_row(table, f"{report.threshold:g}", report.overall)
        out.print(table)
    else:
        reports[0].render(out)
    if args.fit_calibration:
        results = reports[0].results
        try:
            fitted = fit_calibration(
                [r.features for r in results],
                [r.top is not None and r.top == r.expected for r in results],
                features=tuple(calibration_for(embedder.name).weights) or FEATURES,
                name=embedder.name,
            )
        except ValueError as exc:
            err.print(f"[red]cannot fit calibration:[/] {escape(str(exc))}")
            return 1
        err.print(f"fitted on {len(results)} cases: {fitted!r}")
    return 0
