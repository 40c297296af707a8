"""Printing results as rich tables and saving them as JSON in ``bench/results/``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.perf.stats import RATE_UNIT, BenchResult, Row
from bench.perf.targets import RATIO_UNIT, Checked


def fmt_value(value: float, unit: str) -> str:
    if math.isnan(value):
        return "—"
    if unit == RATE_UNIT:
        return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    if value >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}" if value >= 1 else f"{value:.3f} {unit}"


def fmt_ratio(row: Row) -> str:
    ratio = row.ratio
    if math.isnan(ratio):
        return "—"
    if ratio < 0.1:
        return f"{ratio:.2g}×"
    return f"{ratio:.2f}×" if ratio < 100 else f"{ratio:,.0f}×"


def bench_table(result: BenchResult) -> Table:
    table = Table(title=escape(result.title), title_justify="left", caption_justify="left",
                  caption=escape(f"ours: {result.ours}\nraw:  {result.raw}"))
    table.add_column("case")
    table.add_column("metric")
    table.add_column("ours", justify="right")
    table.add_column("raw baseline", justify="right")
    table.add_column("ours / raw", justify="right")
    table.add_column("n", justify="right", style="dim")
    previous = ""
    for row in result.rows:
        if previous and row.case != previous:
            table.add_section()
        table.add_row(escape(row.case) if row.case != previous else "", escape(row.metric),
                      fmt_value(row.ours, row.unit), fmt_value(row.raw, row.unit), fmt_ratio(row),
                      str(row.samples))
        previous = row.case
    return table


def print_machine(console: Console, facts: dict[str, Any]) -> None:
    packages = ", ".join(f"{k} {v}" for k, v in facts.get("packages", {}).items())
    machine = (f"{facts.get('cpu')} — {facts.get('usable_cores')} usable core(s) of {facts.get('cores')}, "
               f"load average {facts.get('load_average_1_5_15')}, Python {facts.get('python')}, "
               f"{facts.get('platform')}")
    console.print(f"[bold]Machine[/]: {escape(machine)}", soft_wrap=True)
    console.print(f"[bold]Packages[/]: {escape(packages)}", soft_wrap=True)


def print_results(console: Console, results: Sequence[BenchResult]) -> None:
    for result in results:
        console.print()
        if result.rows:
            console.print(bench_table(result))
        else:
            console.print(f"[bold]{escape(result.title)}[/]: no figures")
        for note in result.notes:
            console.print(f"  · {escape(note)}", soft_wrap=True)
        for error in result.errors:
            console.print(f"  [red]error[/] {escape(error)}", soft_wrap=True)


def fmt_figure(checked: Checked) -> str:
    figure = checked.figure
    if checked.target.unit == RATIO_UNIT:
        return "—" if math.isnan(figure) else f"{figure:.2f}{RATIO_UNIT}"
    return fmt_value(figure, checked.target.unit)


def targets_table(checked: Sequence[Checked]) -> Table:
    table = Table(title="Targets", title_justify="left")
    table.add_column("target")
    table.add_column("figure", justify="right")
    table.add_column("wanted", justify="right")
    table.add_column("met", justify="center")
    table.add_column("from", style="dim")
    colour = {True: "green", False: "red", None: "yellow"}
    for item in checked:
        table.add_row(escape(item.target.label), fmt_figure(item), escape(item.target.describe()),
                      f"[{colour[item.met]}]{item.status}[/]", escape(item.detail()))
    return table


def print_targets(console: Console, checked: Sequence[Checked]) -> None:
    console.print()
    console.print(targets_table(checked))
    missing = [c for c in checked if c.met is None]
    if missing:
        console.print("  · not measured: the run did not include that case "
                      "(full run: --visitors 1,50,200 --web-retrievers stub,e5)", soft_wrap=True)


def write_json(directory: Path, payload: dict[str, Any], prefix: str = "perf") -> Path:
    """``<directory>/<prefix>-<UTC timestamp>.json`` (and ``<prefix>-latest.json``)."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{prefix}-{stamp}.json"
    text = json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", "utf-8")
    (directory / f"{prefix}-latest.json").write_text(text + "\n", "utf-8")
    return path
