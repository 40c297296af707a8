"""Hybrid against dense-only on a KB with dev and holdout case files (the sample KB by
default), each with its calibration refitted on the dev cases and its threshold tuned on
them for a target precision, the way ``guichet kb tune`` does, then both files reported
at that threshold.

    python -m bench.public.sample_kb [--embedder combined] [--target-precision 0.95]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from gateway.config import KBSettings
from gateway.kb.evaluate import evaluate_with
from kb_index.calibration import FEATURES, calibration_for, fit_calibration
from kb_index.embedder import Embedder, make_embedder, make_term_encoder
from kb_index.eval_report import CaseResult
from kb_index.evaluate import temporary_index
from kb_index.fusion import FusionConfig
from kb_index.tune import CurvePoint, choose_threshold, point_at

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = (  # label, fusion, calibration features (None: the embedder's), term bridge
    ("hybrid + term bridge (product default)", FusionConfig(), None, True),
    ("hybrid without the term bridge", FusionConfig(), None, False),
    ("dense only (the retriever before)",
     FusionConfig(lexical_weight=0.0, centroid_weight=0.0, passage_weight=0.0),
     ("top", "margin", "lift"), False),
)


def _top1(results: Sequence[CaseResult]) -> float:
    answerable = [r for r in results if r.expected is not None]
    return sum(r.top == r.expected for r in answerable) / max(1, len(answerable))


def _xlang(rows: Sequence[CaseResult], threshold: float | None) -> str:
    """Cross-language cases answered (right / all answered / cases) at ``threshold``."""
    xlang = [r for r in rows if r.kind == "xlang"]
    if threshold is None or not xlang:
        return "—"
    answered = [r for r in xlang if r.action == "answer" and r.confidence >= threshold]  # as tune does
    right = sum(r.top == r.expected for r in answered)
    return f"{right}/{len(answered)} of {len(xlang)}"


def _fmt(point: CurvePoint | None) -> str:
    if point is None:
        return "no threshold reaches the target"
    precision = "—" if point.precision is None else f"{100 * point.precision:.1f}%"
    return f"coverage {100 * point.coverage:.1f}% at precision {precision}"


async def compare(
    kb: Path, dev: Path, holdout: Path, embedder: Embedder, target: float, terms: Embedder | None = None
) -> list[str]:
    lines = []
    for label, fusion, features, bridged in VARIANTS:
        if bridged and terms is None:
            continue
        async with temporary_index(kb, embedder, fusion=fusion, terms=terms if bridged else None) as (
            retriever, build
        ):
            dev_results = (await evaluate_with(retriever, build, kb, dev, [0.0]))[0].results
            hold_results = (await evaluate_with(retriever, build, kb, holdout, [0.0]))[0].results
        chosen = features or tuple(calibration_for(embedder.name).weights) or FEATURES
        calibration = fit_calibration([r.features for r in dev_results],
                                      [r.top is not None and r.top == r.expected for r in dev_results],
                                      features=chosen)
        dev_rows, hold_rows = (
            [dataclasses.replace(r, confidence=calibration.confidence(r.features)) for r in results]
            for results in (dev_results, hold_results)
        )
        choice = choose_threshold(dev_rows, target)
        hold_point = point_at(hold_rows, choice.threshold) if choice.threshold is not None else None
        lines.append(
            f"{label}: threshold {choice.threshold} · dev {_fmt(choice.point)}, top-1 "
            f"{100 * _top1(dev_rows):.1f}% · holdout {_fmt(hold_point)}, top-1 {100 * _top1(hold_rows):.1f}%"
            f" · cross-language answered: dev {_xlang(dev_rows, choice.threshold)}, "
            f"holdout {_xlang(hold_rows, choice.threshold)}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.public.sample_kb", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kb", type=Path, default=ROOT / "examples" / "kb")
    p.add_argument("--cases", type=Path, default=ROOT / "examples" / "cases.jsonl")
    p.add_argument("--holdout", type=Path, default=ROOT / "examples" / "cases_holdout.jsonl")
    p.add_argument("--embedder", default=KBSettings().embedder)
    p.add_argument("--model", default="")
    p.add_argument("--target-precision", type=float, default=0.95)
    p.add_argument("--term-bridge", default=KBSettings().term_bridge, help="kb.term_bridge")
    args = p.parse_args(argv)
    embedder = make_embedder(args.embedder, args.model, 2)
    terms = make_term_encoder(args.term_bridge)
    print(f"{embedder.name} · {args.kb} · target precision {args.target_precision:g}")
    for line in asyncio.run(compare(args.kb, args.cases, args.holdout, embedder, args.target_precision,
                                    terms)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
