"""Where each IMAP folder's import stands, kept in the database (``imap_positions``).

A position is (mailbox, UIDVALIDITY, last UID).  The IMAP reader advances it only
after the message's raw bytes were committed by the ingest, so a restart resumes
after the last committed message and imports nothing twice; flags, deleted
conversations and re-read messages do not move it.  The first position of a folder
is its baseline: the mail already there is never imported unless asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.db.tables_imap import ImapPositionRow


@dataclass(frozen=True, slots=True)
class ImapPosition:
    mailbox: str
    uidvalidity: int
    last_uid: int
    first_connected_at: datetime
    synced_at: datetime


def _position(row: ImapPositionRow) -> ImapPosition:
    return ImapPosition(row.mailbox, row.uidvalidity, row.last_uid, row.first_connected_at, row.synced_at)


class ImapPositions:
    """Read and move the positions; every method is one short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def get(self, mailbox: str) -> ImapPosition | None:
        async with self._sessions() as session:
            row = await session.get(ImapPositionRow, mailbox)
            return _position(row) if row is not None else None

    async def all(self) -> list[ImapPosition]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(ImapPositionRow).order_by(ImapPositionRow.mailbox))).all()
            return [_position(r) for r in rows]

    async def baseline(
        self, mailbox: str, uidvalidity: int, last_uid: int, *, first_connected_at: datetime | None = None
    ) -> ImapPosition:
        """Start (or restart, after a UIDVALIDITY change) a folder's position:
        UIDs up to ``last_uid`` under ``uidvalidity`` count as done."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await session.get(ImapPositionRow, mailbox)
            if row is None:
                row = ImapPositionRow(
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    last_uid=last_uid,
                    first_connected_at=first_connected_at or now,
                    synced_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                row.uidvalidity = uidvalidity
                row.last_uid = last_uid
                row.synced_at = now
                row.updated_at = now
            return _position(row)

    async def advance(self, mailbox: str, uidvalidity: int, uid: int) -> bool:
        """The message ``uid`` was committed: the position moves past it (never back).
        False when the position is not under ``uidvalidity`` any more or is already past."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(ImapPositionRow)
                .where(
                    ImapPositionRow.mailbox == mailbox,
                    ImapPositionRow.uidvalidity == uidvalidity,
                    ImapPositionRow.last_uid < uid,
                )
                .values(last_uid=uid, updated_at=self._clock.now())
            )
            return bool(getattr(result, "rowcount", 0))

    async def mark_synced(self, mailbox: str, uidvalidity: int) -> None:
        """Nothing is left to import in the folder right now."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ImapPositionRow)
                .where(ImapPositionRow.mailbox == mailbox, ImapPositionRow.uidvalidity == uidvalidity)
                .values(synced_at=now, updated_at=now)
            )
