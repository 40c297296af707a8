"""Tables of the public benchmarks: our systems, the baselines, the published anchors."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.public.harness import BenchResult

# Published figures, quoted beside ours (not measured here).
ANCHORS: dict[str, list[tuple[str, dict[str, float]]]] = {
    "CLINC150": [
        ("Larson et al. 2019, BERT + threshold (published)", {"accuracy": 0.962, "oos_recall": 0.523}),
        ("target for this project", {"accuracy": 0.95, "oos_recall": 0.75}),
    ],
    "BANKING77": [
        ("Casanueva et al. 2020, USE+ConveRT 10-shot (published)", {"accuracy": 0.852}),
        ("target for this project", {"accuracy": 0.86}),
    ],
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def anchors_for(name: str) -> list[tuple[str, dict[str, float]]]:
    for key, rows in ANCHORS.items():
        if name.startswith(key) and "held out" not in name:
            return rows
    return []


def render(result: BenchResult, console: Console) -> None:
    title = (
        f"{result.name} · {result.embedder} · KB {result.articles} articles / {result.variants} variants"
        f" · threshold tuned on {result.tune_queries} queries, reported on {result.test_queries}"
        + (f" ({result.removed} verbatim KB duplicates removed)" if result.removed else "")
    )
    table = Table(title=title, title_justify="left")
    for name in ("system", "τ", "in-scope acc", "OOS recall", "wrong ans", "OOS prec", "R@1", "R@5",
                 "MRR", "q/s"):
        table.add_column(name, justify="left" if name == "system" else "right")
    for s in result.systems:
        t = s.test
        rate = (result.tune_queries + result.test_queries) / s.search_seconds if s.search_seconds else 0.0
        table.add_row(
            s.name, f"{s.threshold:.3f}", _pct(t.accuracy), _pct(t.oos_recall), _pct(t.wrong),
            _pct(t.oos_precision), _pct(t.recall[0]), _pct(t.recall[2]), f"{t.mrr:.3f}", f"{rate:.0f}",
            style="bold" if s.name.startswith("OURS:") else None,
        )
    for label, figures in anchors_for(result.name):
        table.add_row(label, "", _pct(figures.get("accuracy")), _pct(figures.get("oos_recall")),
                      "", "", "", "", "", "", style="dim")
    console.print(table)
    timings = " · ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
    console.print(f"timings: {timings} · KB saved as {result.kb_file}", soft_wrap=True)


def to_dict(result: BenchResult) -> dict[str, Any]:
    data = asdict(result)
    data["anchors"] = [{"label": label, **figures} for label, figures in anchors_for(result.name)]
    return data
