"""Prometheus metrics of the core, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_ACCEPTED = Counter(
    "guichet_messages_accepted_total",
    "Customer messages committed by inbox.accept, by channel",
    ["channel"],
)
MESSAGES_DUPLICATE = Counter(
    "guichet_messages_duplicate_total",
    "Redeliveries recognised by their external id and not stored again",
    ["channel"],
)
JOBS_DONE = Counter("guichet_jobs_done_total", "Jobs that succeeded", ["kind"])
JOBS_RETRIED = Counter("guichet_jobs_retried_total", "Job attempts that failed and will run again", ["kind"])
JOBS_DEAD = Counter(
    "guichet_jobs_dead_total", "Jobs dead-lettered (permanent failure or attempts used up)", ["kind"]
)
JOB_SECONDS = Histogram(
    "guichet_job_seconds",
    "Time spent running one job",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DELIVERIES = Counter(
    "guichet_deliveries_total",
    "Outbound messages handed to a channel, by channel and status",
    ["channel", "status"],
)

# --- KPIs and satisfaction surveys (issue 9: gateway/reports/gauges.py, docs/KPIS.md) ---
# The gauges hold the figures of the last ``reports.metrics_days`` days, refreshed every
# ``reports.metrics_interval`` seconds from the tables (NaN: nothing to count).
KPI_RATIO = Gauge(
    "guichet_kpi_ratio",
    "KPI rates over the last reports.metrics_days days (containment, handoff, escalation, fcr, reopen, "
    "sla_first_response, sla_resolution, csat, csat_response)",
    ["kpi"],
)
KPI_SECONDS = Gauge(
    "guichet_kpi_seconds",
    "KPI times over the last reports.metrics_days days, by quantile (0.5, 0.9) and clock (business, wall)",
    ["kpi", "quantile", "clock"],
)
KPI_COUNT = Gauge(
    "guichet_kpi_count",
    "KPI counts over the last reports.metrics_days days (conversations, tickets, resolved, csat answers...); "
    "backlog: tickets open now",
    ["kpi"],
)
CSAT_SURVEYS_SENT = Counter(
    "guichet_csat_surveys_sent_total", "Satisfaction surveys sent, by channel", ["channel"]
)
CSAT_ANSWERS = Counter(
    "guichet_csat_answers_total", "Satisfaction survey answers, by rating (1-5)", ["rating"]
)
# --- end of KPIs block ---
