"""The ticket desk's tables (history, SLA, queues, appointments, CSAT, audit).
Portable SQL only; every change goes through an Alembic migration."""

from __future__ import annotations
