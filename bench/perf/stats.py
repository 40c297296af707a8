"""Result rows and latency summaries: every figure is "ours" beside its raw baseline.

A :class:`Row` holds one metric of one case (``p50`` of "1 caller", ...) measured
for Guichet and for the raw baseline in the same run; ``ratio`` is ours / raw, so
above 1 means ours takes longer (latency) or does more (throughput).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

LATENCY_UNIT = "ms"
RATE_UNIT = "/s"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Summary:
    """Latencies (seconds in, milliseconds out) and throughput of one measured run."""

    count: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_second: float

    @classmethod
    def of(cls, latencies: Sequence[float], wall_seconds: float, completed: int | None = None) -> Summary:
        done = len(latencies) if completed is None else completed
        rate = done / wall_seconds if wall_seconds > 0 else math.nan
        return cls(
            count=done,
            seconds=wall_seconds,
            p50_ms=percentile(latencies, 50) * 1000,
            p95_ms=percentile(latencies, 95) * 1000,
            p99_ms=percentile(latencies, 99) * 1000,
            per_second=rate,
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One metric of one case: ours, the raw baseline and the ratio ours / raw."""

    case: str
    metric: str
    unit: str
    ours: float
    raw: float
    samples: int = 0

    @property
    def ratio(self) -> float:
        if self.raw == 0 or math.isnan(self.raw) or math.isnan(self.ours):
            return math.nan
        return self.ours / self.raw

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def compare(case: str, ours: Summary, raw: Summary, *, rate_label: str = "throughput") -> list[Row]:
    """The four standard rows of a case: p50, p95, p99 latency and throughput."""
    return [
        Row(case, "p50", LATENCY_UNIT, ours.p50_ms, raw.p50_ms, ours.count),
        Row(case, "p95", LATENCY_UNIT, ours.p95_ms, raw.p95_ms, ours.count),
        Row(case, "p99", LATENCY_UNIT, ours.p99_ms, raw.p99_ms, ours.count),
        Row(case, rate_label, RATE_UNIT, ours.per_second, raw.per_second, ours.count),
    ]


@dataclass
class BenchResult:
    """One bench: what "ours" and "raw" are, its rows, and notes for the reader."""

    name: str
    title: str
    ours: str
    raw: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "ours": self.ours,
            "raw": self.raw,
            "rows": [r.to_dict() for r in self.rows],
            "notes": list(self.notes),
            "params": dict(self.params),
            "errors": list(self.errors),
        }
