"""``guichet kb tune``: the precision/coverage curve, the chosen threshold, the plot and
the configuration edit (the choice itself is in :mod:`kb_index.tune`; the cases go
through the bot's decision, :mod:`gateway.kb.evaluate`).

Exit codes: 0 threshold chosen (and written when a configuration file is known),
1 bad input (cases file, KB directory, configuration file), 3 no threshold reaches
the target precision on these cases (nothing is written).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.config import ConfigError, Settings, load_settings
from gateway.flow.policy import PolicyConfig
from gateway.kb.evaluate import evaluate_with
from kb_index.embedder import make_embedder, make_term_encoder
from kb_index.eval_report import CaseResult, EvalReport
from kb_index.evaluate import CaseFileError, temporary_index
from kb_index.tune import GRID, Choice, CurvePoint, choose_threshold, curve, write_threshold

NO_THRESHOLD = 3


def add_tune_command(subparsers: Any) -> None:
    p = subparsers.add_parser("tune", help="choose bot.answer_threshold for a target precision")
    p.add_argument("--kb", dest="kb_dir", help="KB source directory (default: kb.source_dir)")
    p.add_argument("--cases", required=True, help="dev cases (JSON lines) the threshold is tuned on")
    p.add_argument("--target-precision", type=float, default=0.95,
                   help="answered-precision to reach (default 0.95)")
    p.add_argument("--config", dest="tune_config", metavar="FILE",
                   help="TOML file to write bot.answer_threshold into (created if missing; "
                        "default: guichet --config / $GUICHET_CONFIG)")
    p.add_argument("--holdout", help="a separate cases file, reported at the chosen threshold")
    p.add_argument("--plot", metavar="OUT.png", help="save the precision/coverage curve")
    p.add_argument("--exclude-kind", action="append", default=[], metavar="KIND",
                   help="leave out cases of this kind (repeatable)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(kb_command="tune")


def _config_path(args: argparse.Namespace) -> Path | None:
    path = args.tune_config or getattr(args, "config", None) or os.environ.get("GUICHET_CONFIG")
    return Path(path) if path else None


async def _run(
    args: argparse.Namespace, kb_dir: str, settings: Settings
) -> tuple[EvalReport, Choice, EvalReport | None, EvalReport | None]:
    embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
    terms = make_term_encoder(settings.kb.term_bridge)
    policy = PolicyConfig.from_settings(settings.bot)
    async with temporary_index(kb_dir, embedder, terms=terms) as (retriever, build):
        def at(cases: str, threshold: float) -> Awaitable[list[EvalReport]]:
            return evaluate_with(retriever, build, kb_dir, cases, [threshold],
                                 exclude_kinds=args.exclude_kind, policy=policy)

        sweep = (await at(args.cases, 0.0))[0]
        choice = choose_threshold(sweep.results, args.target_precision)
        if choice.threshold is None:
            return sweep, choice, None, None
        dev = (await at(args.cases, choice.threshold))[0]
        holdout = (await at(args.holdout, choice.threshold))[0] if args.holdout else None
        return sweep, choice, dev, holdout


def run_tune(args: argparse.Namespace, settings: Settings) -> int:
    out, err = Console(), Console(stderr=True)
    config = _config_path(args)
    if args.tune_config and Path(args.tune_config).is_file() and not getattr(args, "config", None):
        try:
            settings = load_settings(args.tune_config)  # its [kb] section chooses the embedder
        except ConfigError as exc:
            err.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
            return 1
    if not 0.0 < args.target_precision <= 1.0:
        err.print("[red]error[/] --target-precision must be within (0, 1]")
        return 1
    kb_dir = args.kb_dir or settings.kb.source_dir
    try:
        sweep, choice, dev, holdout = asyncio.run(_run(args, kb_dir, settings))
    except (CaseFileError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    results = sweep.results
    points = curve(results, sorted({*GRID, *([choice.threshold] if choice.threshold else [])}))
    if args.plot:
        save_plot(args.plot, results, choice)
    written = ""
    if choice.threshold is not None and config is not None:
        try:
            written = write_threshold(config, choice.threshold)
        except (OSError, ValueError) as exc:
            err.print(f"[red]cannot write {escape(str(config))}:[/] {escape(str(exc))}", soft_wrap=True)
            return 1
    if args.json:
        print(json.dumps(_payload(sweep, choice, points, dev, holdout, config, written), ensure_ascii=False))
    else:
        _render(out, sweep, choice, points, dev, holdout)
        _say_outcome(out, choice, config, written, args.plot)
    return 0 if choice.threshold is not None else NO_THRESHOLD


def _render(
    out: Console, sweep: EvalReport, choice: Choice, points: Sequence[CurvePoint],
    dev: EvalReport | None, holdout: EvalReport | None,
) -> None:
    table = Table(title=f"precision / coverage by threshold · {sweep.embedder} · {sweep.cases_path}",
                  title_justify="left")
    for name in ("threshold", "answered", "coverage", "precision", ""):
        table.add_column(name, justify="right")
    for p in points:
        chosen = p.threshold == choice.threshold
        prec = "—" if p.precision is None else f"{100 * p.precision:.1f}%"
        mark = "◀ chosen" if chosen else ("≥ target" if p.precision is not None
                                          and p.precision >= choice.target else "")
        table.add_row(f"{p.threshold:g}", str(p.answered), f"{100 * p.coverage:.1f}%", prec, mark,
                      style="bold" if chosen else None)
    out.print(table)
    if dev is not None:
        dev.render(out)
    if holdout is not None:
        out.print("[bold]Holdout[/] (not used for tuning), at the chosen threshold:")
        holdout.render(out)


def _say_outcome(out: Console, choice: Choice, config: Path | None, written: str, plot: str | None) -> None:
    if plot:
        out.print(f"plot saved to {escape(plot)}")
    if choice.threshold is None:
        best = "—" if choice.best_precision is None else f"{100 * choice.best_precision:.1f}%"
        out.print(f"[red bold]No threshold reaches {100 * choice.target:.1f}% precision on these cases[/] "
                  f"(best: {best}); the configuration was not changed.")
        return
    point = choice.point
    assert point is not None
    out.print(f"[green bold]chosen threshold {choice.threshold:g}[/]: coverage {100 * point.coverage:.1f}%"
              f" at precision {100 * (point.precision or 0):.1f}% (target {100 * choice.target:.1f}%)")
    if config is None:
        out.print("no configuration file given (--config FILE or $GUICHET_CONFIG): not written")
    else:
        out.print(f"bot.answer_threshold = {choice.threshold:g} {written} in {escape(str(config))}")


def _payload(
    sweep: EvalReport, choice: Choice, points: Sequence[CurvePoint], dev: EvalReport | None,
    holdout: EvalReport | None, config: Path | None, written: str,
) -> dict[str, Any]:
    return {
        "target_precision": choice.target,
        "threshold": choice.threshold,
        "best_precision": choice.best_precision,
        "curve": [{"threshold": p.threshold, "answered": p.answered, "coverage": round(p.coverage, 4),
                   "precision": None if p.precision is None else round(p.precision, 4)} for p in points],
        "dev": dev.to_dict() if dev else None,
        "holdout": holdout.to_dict() if holdout else None,
        "config": str(config) if config and written else None,
        "embedder": sweep.embedder,
    }


def save_plot(path: str | Path, results: Sequence[CaseResult], choice: Choice) -> None:
    """Precision and coverage against the threshold, with the target and the choice."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thresholds = [round(0.01 * i, 2) for i in range(0, 100)]
    points = curve(results, thresholds)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(thresholds, [p.coverage for p in points], label="coverage (answered ÷ answerable)")
    ax.plot(thresholds, [p.precision if p.precision is not None else float("nan") for p in points],
            label="precision (correct ÷ answered)")
    ax.axhline(choice.target, color="grey", linestyle=":", label=f"target precision {choice.target:g}")
    if choice.threshold is not None:
        ax.axvline(choice.threshold, color="red", linestyle="--", label=f"chosen {choice.threshold:g}")
    ax.set_xlabel("answer threshold (calibrated confidence)")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("guichet kb tune: precision / coverage")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
