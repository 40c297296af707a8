"""The KPIs as Prometheus gauges (:mod:`gateway.metrics`): recomputed from the tables
every ``reports.metrics_interval`` seconds over the last ``reports.metrics_days`` days
by one periodic ``cleanup_ctx`` service, so every process serving ``/metrics`` shows
the same figures (nothing is counted in one process's memory)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from gateway import metrics
from gateway.flow.store import SqlStore
from gateway.periodic import periodic
from gateway.reports.kpis import kpi_report
from gateway.reports.period import Period, zone

RATIOS = {
    "containment": "containment_rate", "handoff": "handoff_rate", "escalation": "escalation_rate",
    "fcr": "fcr_rate", "reopen": "reopen_rate", "sla_first_response": "sla_frt_rate",
    "sla_resolution": "sla_res_rate", "csat": "csat_rate", "csat_response": "csat_response_rate",
}
TIMES = {"first_response": "frt", "resolution": "resolution", "wait": "wait"}
COUNTS = ("conversations", "contained", "tickets", "resolved", "escalated", "sla_frt_breached",
          "sla_res_breached", "csat_sent", "csat_answers", "backlog")


def _value(v: Any) -> float:
    return math.nan if v is None else float(v)


def publish(totals: dict[str, Any]) -> None:
    for kpi, key in RATIOS.items():
        metrics.KPI_RATIO.labels(kpi).set(_value(totals.get(key)))
    for kpi, prefix in TIMES.items():
        for quantile, name in (("0.5", "median"), ("0.9", "p90")):
            metrics.KPI_SECONDS.labels(kpi, quantile, "wall").set(_value(totals.get(f"{prefix}_{name}_s")))
            if prefix != "wait":
                metrics.KPI_SECONDS.labels(kpi, quantile, "business").set(
                    _value(totals.get(f"{prefix}_bh_{name}_s")))
    for kpi in COUNTS:
        metrics.KPI_COUNT.labels(kpi).set(_value(totals.get(kpi)))
    metrics.KPI_COUNT.labels("csat_mean").set(_value(totals.get("csat_mean")))


async def refresh(store: SqlStore) -> dict[str, Any]:
    settings = store.settings
    now = store.clock.now()
    period = Period(now - timedelta(days=max(1, settings.reports.metrics_days)), now,
                    zone(settings.reports.timezone))
    report = await kpi_report(store.sessions, settings, period, now, "day")
    publish(report["totals"])
    return report


def kpi_gauges(store: SqlStore) -> Callable[[Any], AsyncIterator[None]]:
    """The ``cleanup_ctx`` entry refreshing the gauges."""

    async def step() -> None:
        await refresh(store)

    return periodic("KPI gauges", lambda: store.settings.reports.metrics_interval, step,
                    task_name="kpi-gauges")
