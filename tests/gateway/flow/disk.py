"""What another connection reads of the jobs table: only committed rows."""

from __future__ import annotations

import sqlite3

from gateway.config import Settings


def on_disk(settings: Settings) -> list[int]:
    """The ``n`` of every job row another connection sees, in id order."""
    with sqlite3.connect(settings.data_path / "guichet.db") as conn:
        return [row[0] for row in conn.execute("SELECT json_extract(payload, '$.n') FROM jobs ORDER BY id")]
