"""The KPI report as CSV: one row per group (or day), then the period's totals, with
the columns of :data:`gateway.reports.kpis.FIELDS`.  Rates are fractions (0..1) and
times seconds, as in the JSON; an empty cell is a figure with nothing to count."""

from __future__ import annotations

import csv
import io
from typing import Any

from gateway.reports.kpis import FIELDS


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    text = str(value)
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    period = report["period"]
    writer.writerow([period["group"], "from", "to", *FIELDS])
    for row in report["groups"]:
        cells = [_cell(row.get(f)) for f in FIELDS]
        writer.writerow([_cell(row["key"]), period["from"], period["to"], *cells])
    totals = report["totals"]
    writer.writerow(["total", period["from"], period["to"], *(_cell(totals.get(f)) for f in FIELDS)])
    return out.getvalue()
