"""Access and accountability: the audit log and API tokens.  Portable SQL only;
every change goes through an Alembic migration."""

from __future__ import annotations
