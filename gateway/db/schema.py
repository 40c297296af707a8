"""Every table module, imported once: the complete metadata that Alembic compares
against (``migrations/env.py``).  A new table module is added here."""

from __future__ import annotations

from gateway.db import (
    tables,
    tables_access,
    tables_csat,  # satisfaction surveys (issue 9, KPIs)
    tables_desk,  # contacts, tags, incidents (issue 9)
    tables_imap,
    tables_mail,
    tables_merge,  # ticket merges (issue 9)
    tables_slack,  # Slack channel (issue 11)
    tables_tickets,
)
from gateway.db.tables import Base

__all__ = [
    "Base",
    "tables",
    "tables_access",
    "tables_csat",
    "tables_desk",
    "tables_imap",
    "tables_mail",
    "tables_merge",
    "tables_slack",
    "tables_tickets",
]
