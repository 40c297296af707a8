"""Evaluation figures: per-case results, metrics, JSON and a rich table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True, slots=True)
class CaseResult:
    id: str
    kind: str
    expected: str | None
    action: str  # "answer" | "handoff" | "smalltalk"
    answer: str | None  # the article answered with, None when not answered
    confidence: float
    reason: str
    top: str | None  # top hit, whatever the decision
    scores: tuple[float, ...] = ()  # ranked fused article scores
    features: Mapping[str, float] = field(default_factory=dict)  # calibration features (for refitting)

    @property
    def top_score(self) -> float:
        return self.scores[0] if self.scores else 0.0

    @property
    def correct(self) -> bool:
        return self.answer is not None and self.answer == self.expected


@dataclass(frozen=True, slots=True)
class Metrics:
    cases: int
    answerable: int
    null_cases: int
    answered: int  # all answers, including wrong ones and answers to null cases
    answered_answerable: int
    correct: int
    top1_correct: int
    null_handoffs: int

    @property
    def coverage(self) -> float | None:
        return self.answered_answerable / self.answerable if self.answerable else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def top1(self) -> float | None:
        return self.top1_correct / self.answerable if self.answerable else None

    @property
    def null_handoff_rate(self) -> float | None:
        return self.null_handoffs / self.null_cases if self.null_cases else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)
        for name in ("coverage", "precision", "top1", "null_handoff_rate"):
            value = getattr(self, name)
            data[name] = None if value is None else round(value, 4)
        return data


def compute_metrics(results: Sequence[CaseResult]) -> Metrics:
    answerable = [r for r in results if r.expected is not None]
    nulls = [r for r in results if r.expected is None]
    return Metrics(
        cases=len(results),
        answerable=len(answerable),
        null_cases=len(nulls),
        answered=sum(r.answer is not None for r in results),
        answered_answerable=sum(r.answer is not None for r in answerable),
        correct=sum(r.correct for r in results),
        top1_correct=sum(r.top == r.expected for r in answerable),
        null_handoffs=sum(r.action == "handoff" for r in nulls),
    )


def metrics_by_kind(results: Sequence[CaseResult]) -> dict[str, Metrics]:
    """:func:`compute_metrics` of each kind of case, kinds in alphabetical order."""
    return {
        kind: compute_metrics([r for r in results if r.kind == kind])
        for kind in sorted({r.kind for r in results})
    }


@dataclass(frozen=True)
class EvalReport:
    threshold: float
    embedder: str
    kb_dir: str
    cases_path: str
    article_count: int
    source_errors: int
    overall: Metrics
    by_kind: Mapping[str, Metrics] = field(default_factory=dict)
    results: tuple[CaseResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "embedder": self.embedder,
            "kb_dir": self.kb_dir,
            "cases": self.cases_path,
            "article_count": self.article_count,
            "source_errors": self.source_errors,
            "overall": self.overall.to_dict(),
            "by_kind": {k: m.to_dict() for k, m in self.by_kind.items()},
        }

    def to_json(self) -> str:
        """The summary as one JSON object (per-case rows go to the predictions file)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def render(self, console: Console) -> None:
        title = (
            f"threshold {self.threshold:g} · {self.embedder} · {self.article_count} articles"
            f" · {self.cases_path}"
        )
        table = metrics_table(title, "kind")
        for kind, metrics in self.by_kind.items():
            add_metrics_row(table, kind or "(none)", metrics)
        add_metrics_row(table, "overall", self.overall, style="bold")
        console.print(table)
        if self.source_errors:
            console.print(f"[yellow]{self.source_errors} broken KB source(s) were left out[/]")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


LEGEND = (
    "expect: cases with an expected article · cover: expect cases answered · "
    "prec: correct ÷ all answers · top-1: top hit right ÷ expect · "
    "null→HO: out-of-scope cases handed off"
)


def metrics_table(title: str, first_column: str) -> Table:
    table = Table(title=title, title_justify="left", caption=LEGEND, caption_justify="left")
    table.add_column(first_column)
    for name in ("cases", "expect", "answered", "cover", "prec", "top-1", "null→HO"):
        table.add_column(name, justify="right")
    return table


def add_metrics_row(table: Table, label: str, m: Metrics, style: str | None = None) -> None:
    table.add_row(
        label,
        str(m.cases),
        str(m.answerable),
        str(m.answered),
        _pct(m.coverage),
        _pct(m.precision),
        _pct(m.top1),
        _pct(m.null_handoff_rate),
        style=style,
    )
