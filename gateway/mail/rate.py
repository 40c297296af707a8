"""Windowed counters in the database, shared by every process: the SMTP
listener's per-client rate limit (451 when exceeded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables_mail import MailRateCount
from gateway.flow.hot_sql import HotSql


def window_start(now: datetime, seconds: int) -> datetime:
    seconds = max(int(seconds), 1)
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


async def count(session: AsyncSession, key: str, now: datetime, seconds: int) -> int:
    """Messages counted for ``key`` in the current window (every SMTP MAIL asks: on
    SQLite the same read in plain SQL, as :mod:`gateway.mail.ingest_sql` writes it)."""
    start = window_start(now, seconds)
    bind = session.bind
    if bind is not None and bind.dialect.name == "sqlite":
        db = await HotSql(session).db()
        stamp = start.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        found = db.execute(
            "SELECT count FROM mail_rate_counts WHERE key = ? AND window_start = ?", (key, stamp)
        ).fetchone()
        return int(found[0]) if found else 0
    stmt = select(MailRateCount.count).where(MailRateCount.key == key, MailRateCount.window_start == start)
    row = (await session.execute(stmt)).first()
    return int(row[0]) if row else 0


async def bump(session: AsyncSession, key: str, now: datetime, seconds: int) -> None:
    """Count one more for ``key`` in the current window (an upsert: safe when two
    processes count at once)."""
    start = window_start(now, seconds)
    values = {"key": key[:128], "window_start": start, "count": 1}
    bind = session.bind
    dialect: Any = postgresql if bind is not None and bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(MailRateCount).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": MailRateCount.count + 1}
    )
    await session.execute(stmt)


async def purge(session: AsyncSession, now: datetime, keep: timedelta = timedelta(days=1)) -> None:
    await session.execute(delete(MailRateCount).where(MailRateCount.window_start < now - keep))
