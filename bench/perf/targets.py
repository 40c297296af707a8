"""The perf targets (the project's acceptance figures), checked against one run's rows.

Each target reads one row of one bench: Guichet's own figure (``ours``) for the
gateway alone, the ratio ours / raw for the real model ("library": the model
library's encode + FAISS search, one query at a time, measured in the same run).
A case that was not run is "not measured", never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.perf.stats import LATENCY_UNIT, RATE_UNIT, BenchResult, Row
from bench.perf.webchat import LIBRARY_RATE, LIBRARY_REPLY, case_label

RATIO_UNIT = "×"


@dataclass(frozen=True, slots=True)
class Target:
    """The figure of (``bench``, ``visitors``, ``metric``) must be ``op`` ``threshold``."""

    label: str
    bench: str
    visitors: int
    metric: str
    side: str  # "ours": Guichet's own figure; "ratio": ours / raw
    op: str  # ">=" or "<="
    threshold: float
    unit: str  # of the figure

    def describe(self) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        if self.side == "ratio":
            return f"{sign} {self.threshold:g}{RATIO_UNIT} raw"
        return f"{sign} {self.threshold:g} {self.unit}"


TARGETS = (
    Target("stub (gateway alone): conversations/s, 50 visitors", "webchat:stub", 50, "conversations",
           "ours", ">=", 250.0, RATE_UNIT),
    Target("stub (gateway alone): reply p50, 50 visitors", "webchat:stub", 50, "reply p50",
           "ours", "<=", 100.0, LATENCY_UNIT),
    Target("stub (gateway alone): ack p99, 200 visitors", "webchat:stub", 200, "ack p99",
           "ours", "<=", 50.0, LATENCY_UNIT),
    Target("e5: conversations/s ÷ library rate, 50 visitors", "webchat:e5", 50,
           LIBRARY_RATE, "ratio", ">=", 0.6, RATIO_UNIT),
    Target("e5: reply p50 ÷ library p50, 1 visitor", "webchat:e5", 1,
           LIBRARY_REPLY, "ratio", "<=", 2.0, RATIO_UNIT),
)


@dataclass(frozen=True, slots=True)
class Checked:
    target: Target
    row: Row | None

    @property
    def figure(self) -> float:
        if self.row is None:
            return math.nan
        return self.row.ratio if self.target.side == "ratio" else self.row.ours

    @property
    def met(self) -> bool | None:
        figure = self.figure
        if math.isnan(figure):
            return None
        return figure >= self.target.threshold if self.target.op == ">=" else figure <= self.target.threshold

    @property
    def status(self) -> str:
        return {True: "yes", False: "no", None: "not measured"}[self.met]

    def detail(self) -> str:
        """For a ratio: the two figures it divides."""
        row = self.row
        if row is None or self.target.side != "ratio":
            return ""
        return f"{row.ours:,.1f} against raw {row.raw:,.1f} {row.unit}"

    def to_dict(self) -> dict[str, Any]:
        figure = self.figure
        return {
            "target": self.target.label,
            "bench": self.target.bench,
            "case": case_label(self.target.visitors),
            "metric": self.target.metric,
            "figure": None if math.isnan(figure) else figure,
            "unit": self.target.unit,
            "op": self.target.op,
            "threshold": self.target.threshold,
            "met": self.met,
            "ours": None if self.row is None or math.isnan(self.row.ours) else self.row.ours,
            "raw": None if self.row is None or math.isnan(self.row.raw) else self.row.raw,
        }


def find_row(results: Sequence[BenchResult], bench: str, case: str, metric: str) -> Row | None:
    for result in results:
        if result.name == bench:
            for row in result.rows:
                if row.case == case and row.metric == metric:
                    return row
    return None


def check_targets(results: Sequence[BenchResult],
                  targets: Sequence[Target] = TARGETS) -> list[Checked]:
    return [Checked(t, find_row(results, t.bench, case_label(t.visitors), t.metric)) for t in targets]
