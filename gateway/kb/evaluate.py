"""Measure the bot on labelled questions, through the same code customers get.

``evaluate`` builds a temporary index from a KB directory (the live index is not
touched: :func:`kb_index.evaluate.temporary_index`), runs every case through
:func:`gateway.flow.policy.decide`, and counts (:mod:`kb_index.eval_report`):

- coverage: answerable cases (``expected`` not null) that were answered, ÷ answerable;
- answered-precision: correct answers ÷ all answers (answering a null case is wrong);
- top-1: answerable cases whose top hit is the expected article, whatever the threshold;
- hand-off rate on null cases: null cases handed to a person ÷ null cases.

Cases file: JSON lines ``{"id", "text", "expected": article id | null, "kind"?}``
(:func:`kb_index.evaluate.load_cases`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from gateway.flow.policy import PolicyConfig, decide
from gateway.models import Action
from kb_index.calibration import FEATURES, Calibration
from kb_index.embedder import Embedder
from kb_index.eval_report import CaseResult, EvalReport, compute_metrics, metrics_by_kind
from kb_index.evaluate import Case, check_expected, load_cases, temporary_index, write_predictions
from kb_index.fusion import FusionConfig
from kb_index.retriever import KBRetriever
from kb_index.versions import BuildReport


async def run_cases(
    retriever: KBRetriever, cases: Sequence[Case], threshold: float, policy: PolicyConfig | None = None
) -> list[CaseResult]:
    """Every case through ``decide``, sequentially (the order of the file), with the
    bot's ``policy`` (default: :class:`PolicyConfig`'s) at ``threshold``."""
    config = dataclasses.replace(policy or PolicyConfig(), answer_threshold=threshold)
    results = []
    for case in cases:
        decision = await decide(case.text, retriever, config)
        result = decision.result
        if result is None:  # smalltalk or explicit hand-off: top-1 still measured
            result = await retriever.search(case.text, k=config.top_k)
        top = result.top
        answer = decision.hit.article_id if decision.action is Action.ANSWER and decision.hit else None
        results.append(
            CaseResult(
                id=case.id,
                kind=case.kind,
                expected=case.expected,
                action=decision.action.value,
                answer=answer,
                confidence=decision.confidence,
                reason=decision.reason,
                top=top.article_id if top else None,
                scores=tuple(result.extras.get("scores", ())),
                features={f: float(result.extras.get(f, 0.0)) for f in FEATURES},
            )
        )
    return results


async def evaluate_with(
    retriever: KBRetriever,
    build: BuildReport,
    kb_dir: str | Path,
    cases_path: str | Path,
    thresholds: Sequence[float],
    *,
    exclude_kinds: Iterable[str] = (),
    policy: PolicyConfig | None = None,
) -> list[EvalReport]:
    """One report per threshold, on an index already built (:func:`temporary_index`)."""
    excluded = set(exclude_kinds)
    cases = [c for c in load_cases(cases_path) if c.kind not in excluded]
    loaded = retriever.loaded
    check_expected(cases, set(loaded.articles) if loaded else set(), Path(cases_path))
    reports = []
    for threshold in thresholds:
        results = await run_cases(retriever, cases, threshold, policy)
        reports.append(
            EvalReport(
                threshold=threshold,
                embedder=retriever.embedder.name,
                kb_dir=str(kb_dir),
                cases_path=str(cases_path),
                article_count=build.article_count,
                source_errors=len(build.errors),
                overall=compute_metrics(results),
                by_kind=metrics_by_kind(results),
                results=tuple(results),
            )
        )
    return reports


async def evaluate_many_async(
    kb_dir: str | Path,
    cases_path: str | Path,
    embedder: Embedder,
    thresholds: Sequence[float],
    *,
    exclude_kinds: Iterable[str] = (),
    progress: bool = False,
    calibration: Calibration | None = None,
    fusion: FusionConfig | None = None,
    terms: Embedder | None = None,
    policy: PolicyConfig | None = None,
) -> list[EvalReport]:
    """One temporary index, one report per threshold."""
    load_cases(cases_path)  # a broken cases file fails before the index is built
    async with temporary_index(
        kb_dir, embedder, progress=progress, calibration=calibration, fusion=fusion, terms=terms
    ) as (retriever, build):
        return await evaluate_with(
            retriever, build, kb_dir, cases_path, thresholds, exclude_kinds=exclude_kinds, policy=policy
        )


def evaluate(
    kb_dir: str | Path,
    cases_path: str | Path,
    embedder: Embedder,
    threshold: float,
    predictions_path: str | Path | None = None,
    *,
    exclude_kinds: Iterable[str] = (),
    progress: bool = False,
    terms: Embedder | None = None,
    policy: PolicyConfig | None = None,
) -> EvalReport:
    """Evaluate at one threshold (blocking; call from synchronous code)."""
    report = asyncio.run(
        evaluate_many_async(
            kb_dir, cases_path, embedder, [threshold],
            exclude_kinds=exclude_kinds, progress=progress, terms=terms, policy=policy,
        )
    )[0]
    if predictions_path is not None:
        write_predictions(predictions_path, report.results)
    return report
