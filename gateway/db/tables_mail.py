"""The email channel's tables (raw mail, classification, attachments, quarantine,
suppression).  Portable SQL only; every change goes through an Alembic migration."""

from __future__ import annotations
