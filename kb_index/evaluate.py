"""Measure the bot on labelled questions, through the same code customers get.

``evaluate`` builds a temporary index from a KB directory (the live index is not
touched), runs every case through :func:`gateway.flow.policy.decide`, and counts:

- coverage: answerable cases (``expected`` not null) that were answered, ÷ answerable;
- answered-precision: correct answers ÷ all answers (answering a null case is wrong);
- top-1: answerable cases whose top hit is the expected article, whatever the threshold;
- hand-off rate on null cases: null cases handed to a person ÷ null cases.

Cases file: JSON lines ``{"id", "text", "expected": article id | null, "kind"?}``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.flow.policy import PolicyConfig, decide
from gateway.models import Action
from kb_index.calibration import FEATURES, Calibration
from kb_index.embedder import Embedder
from kb_index.eval_report import CaseResult, EvalReport, compute_metrics
from kb_index.fusion import FusionConfig
from kb_index.retriever import KBRetriever
from kb_index.versions import BuildReport, build_index


class CaseFileError(ValueError):
    """A cases file line is not a valid case; the message names the line."""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    text: str
    expected: str | None
    kind: str = ""
    line: int = 0


def load_cases(path: str | Path) -> list[Case]:
    """Read and validate a cases file (JSON lines)."""
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"{path}: cannot read cases file: {exc}") from exc
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue

        def bad(reason: str, number: int = number) -> CaseFileError:
            return CaseFileError(f"{path} line {number}: {reason}")

        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(f"invalid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise bad("expected a JSON object")
        case_id, text, kind = row.get("id"), row.get("text"), row.get("kind", "")
        if not isinstance(case_id, str | int) or isinstance(case_id, bool) or str(case_id) == "":
            raise bad("'id' must be a non-empty string or number")
        if str(case_id) in seen:
            raise bad(f"duplicate id {case_id!r} (first on line {seen[str(case_id)]})")
        if not isinstance(text, str) or not text.strip():
            raise bad("'text' must be a non-empty string")
        if "expected" not in row:
            raise bad("'expected' is missing (an article id, or null for out of scope)")
        expected = row["expected"]
        if expected is not None and (not isinstance(expected, str) or not expected.strip()):
            raise bad("'expected' must be an article id (string) or null")
        if kind is None:
            kind = ""
        if not isinstance(kind, str):
            raise bad("'kind' must be a string")
        seen[str(case_id)] = number
        cases.append(Case(str(case_id), text, expected, kind, number))
    return cases


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


def _check_expected(cases: Iterable[Case], article_ids: set[str], cases_path: Path) -> None:
    for case in cases:
        if case.expected is not None and case.expected not in article_ids:
            raise CaseFileError(
                f"{cases_path} line {case.line}: expected article {case.expected!r} "
                "is not in the knowledge base"
            )


def write_predictions(path: str | Path, results: Iterable[CaseResult]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in results:
            row: dict[str, Any] = {
                "id": r.id,
                "answer": r.answer,
                "action": r.action,
                "confidence": round(r.confidence, 4),
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@asynccontextmanager
async def temporary_index(
    kb_dir: str | Path,
    embedder: Embedder,
    *,
    progress: bool = False,
    calibration: Calibration | None = None,
    fusion: FusionConfig | None = None,
    terms: Embedder | None = None,
) -> AsyncIterator[tuple[KBRetriever, BuildReport]]:
    """A retriever over a temporary index of ``kb_dir`` (the live index is not touched);
    ``terms``: the term bridge's word encoder (:mod:`kb_index.term_bridge`)."""
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="guichet-eval-") as tmp:
        build = await loop.run_in_executor(
            None, lambda: build_index(kb_dir, tmp, embedder, progress=progress, terms=terms)
        )
        retriever = KBRetriever(tmp, embedder, calibration=calibration, fusion=fusion, terms=terms)
        try:
            yield retriever, build
        finally:
            retriever.close()


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
    _check_expected(cases, set(loaded.articles) if loaded else set(), Path(cases_path))
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
                by_kind={
                    kind: compute_metrics([r for r in results if r.kind == kind])
                    for kind in sorted({r.kind for r in results})
                },
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
