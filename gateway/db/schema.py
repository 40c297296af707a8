"""Every table module, imported once: the complete metadata that Alembic compares
against (``migrations/env.py``).  A new table module is added here."""

from __future__ import annotations

from gateway.db import tables, tables_access, tables_imap, tables_mail, tables_tickets
from gateway.db import tables_slack  # Slack channel (issue 11)
from gateway.db import tables_csat  # satisfaction surveys (issue 9, KPIs)
from gateway.db import tables_merge  # ticket merges (issue 9)
from gateway.db.tables import Base

__all__ = [
    "Base", "tables", "tables_access", "tables_imap", "tables_mail", "tables_tickets", "tables_slack",
    "tables_csat", "tables_merge",
]
