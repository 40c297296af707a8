"""``guichet kb eval``: measure the bot on labelled questions (:mod:`gateway.kb.evaluate`).

Exit codes: 0 measured, 1 bad input (cases file, KB directory), or the calibration
could not be fitted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from gateway.config import Settings
from gateway.flow.policy import PolicyConfig
from gateway.kb.evaluate import evaluate, evaluate_many_async
from kb_index.calibration import FEATURES, calibration_for, fit_calibration
from kb_index.embedder import make_embedder, make_term_encoder
from kb_index.eval_report import add_metrics_row, metrics_table
from kb_index.evaluate import CaseFileError, write_predictions


def add_eval_command(subparsers: Any) -> None:
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


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    out, err = Console(), Console(stderr=True)
    kb_dir = args.kb_dir or settings.kb.source_dir
    embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
    terms = make_term_encoder(settings.kb.term_bridge)
    policy = PolicyConfig.from_settings(settings.bot)
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
