"""Prometheus metrics of the core, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
