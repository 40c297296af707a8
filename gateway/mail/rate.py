"""Windowed counters in the database, shared by every process: the SMTP
listener's per-client rate limit (451 when exceeded).

:class:`RecentCounts` spares the database a read at every SMTP MAIL while a client
is far below its limit: a count read less than :data:`REFRESH_SECONDS` ago, plus
what this process accepted since, decides; from half the limit on, every MAIL
reads the database, so the limit itself is exact across processes."""

from __future__ import annotations

from dataclasses import dataclass
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


REFRESH_SECONDS = 1.0
MAX_KEYS = 10_000


@dataclass(slots=True)
class _Seen:
    window: datetime
    count: int  # read from the database at ``read_at``, plus this process's accepts since
    read_at: datetime


class RecentCounts:
    """The per-client counts of one process, refreshed from the database (see the
    module's docstring), for windows of ``seconds``."""

    def __init__(self, refresh: float = REFRESH_SECONDS) -> None:
        self.refresh = timedelta(seconds=refresh)
        self._seen: dict[str, _Seen] = {}

    def cached(self, key: str, now: datetime, limit: int, seconds: int) -> int | None:
        """The count for ``key`` if it may decide without the database, else None."""
        seen = self._seen.get(key)
        if (
            seen is None
            or seen.window != window_start(now, seconds)
            or now - seen.read_at >= self.refresh
            or 2 * seen.count >= limit
        ):
            return None
        return seen.count

    def remember(self, key: str, now: datetime, seconds: int, count: int) -> None:
        """``count`` was just read from the database."""
        if len(self._seen) >= MAX_KEYS and key not in self._seen:
            self._seen.clear()  # many clients: start over (each reads once more)
        self._seen[key] = _Seen(window_start(now, seconds), count, now)

    def accepted(self, key: str, now: datetime, seconds: int) -> None:
        """This process stored one more message of ``key`` (its accept committed)."""
        seen = self._seen.get(key)
        if seen is not None and seen.window == window_start(now, seconds):
            seen.count += 1
