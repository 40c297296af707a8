"""Group commit for SQLite: the write transactions of this process that arrive
while one is being committed share the next commit (and its fsync).

SQLite has one writer at a time and, with ``synchronous=FULL``, every commit
waits for the disk (1.8 ms a commit measured on the project's machine kind).
So writers queue here, and a leader runs them one after another in ONE database
transaction (``BEGIN IMMEDIATE``), each inside its own savepoint: a unit that
raises rolls back alone and its caller gets the error; the others are committed
together, and each caller returns only after that commit — the same guarantee as
a commit of its own ("ack after commit" holds), at a fraction of the fsyncs.

A unit's body must do database work only (no slow awaits, no second write
transaction from inside: that would wait for itself).

A *plain* unit (``unit(plain=True)``) is one whose body writes with plain SQL on
the transaction's sqlite3 connection only (:mod:`gateway.flow.hot_sql`), never
through the ORM: its savepoint is then taken and released on that connection
directly, not through SQLAlchemy's nested transaction (about 0.1-0.2 ms a unit,
three units a web-chat conversation).  A plain unit that leaves ORM changes behind
is a programming error: it fails, rolled back, and says so.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

_SQLITE = "guichet.sqlite3"  # session.info key of the transaction's sqlite3 connection
_SAVEPOINT = "guichet_unit"


async def sqlite_connection(session: AsyncSession) -> sqlite3.Connection:
    """The sqlite3 connection under ``session``'s transaction; found once per
    session (the units of a batch share one) and kept in ``session.info``."""
    found: sqlite3.Connection | None = session.info.get(_SQLITE)
    if found is None:
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        found = session.info[_SQLITE] = raw.driver_connection.sqlite  # type: ignore[union-attr]
    return found

MAX_BATCH = 64
# A batch stops taking units after this: its first ones wait for the commit.  Longer
# batches mean fewer commits and less CPU a message; a lone unit never waits (the
# batch ends when nobody queues).  Measured on the web-chat path, 50 visitors
# (bench/README.md): 0.005 s 260 conversations/s, reply p50 180 ms; 0.02 s 340/s,
# 123 ms; 0.05 s 375/s, 103 ms (ack p50 9, 28 and 33 ms).
MAX_BATCH_SECONDS = 0.05


class _Turn:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.granted: asyncio.Future[AsyncSession] = loop.create_future()
        self.body_done: asyncio.Future[None] = loop.create_future()
        self.committed: asyncio.Future[None] = loop.create_future()


class GroupCommitter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = MAX_BATCH) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._waiting: collections.deque[_Turn] = collections.deque()
        self._urgent: collections.deque[_Turn] = collections.deque()  # a peer waits for its ack
        self._leader: asyncio.Task[None] | None = None
        self.batches = 0
        self.units = 0

    @asynccontextmanager
    async def unit(self, *, urgent: bool = False, plain: bool = False) -> AsyncIterator[AsyncSession]:
        """A write unit: yields the shared session inside the unit's savepoint;
        returns once the batch holding it is committed (or raises).  ``urgent``
        units (a channel's peer waits for their ack) go before the others;
        ``plain`` ones write with plain SQL only (see the module's doc)."""
        turn = _Turn(asyncio.get_running_loop())
        (self._urgent if urgent else self._waiting).append(turn)
        if self._leader is None or self._leader.done():
            self._leader = asyncio.create_task(self._lead(), name="sqlite-group-commit")
        try:
            session = await asyncio.shield(turn.granted)
        except asyncio.CancelledError:
            # Cancelled while waiting: give the turn back if it was already granted.
            if turn.granted.done() and not turn.granted.cancelled():
                turn.body_done.set_result(None)
            else:
                turn.granted.cancel()
            raise
        failed: BaseException | None = None
        try:
            if plain:
                db = await sqlite_connection(session)
                db.execute(f"SAVEPOINT {_SAVEPOINT}")
                try:
                    yield session
                    if not session.sync_session._is_clean():
                        raise RuntimeError("a plain group-commit unit left ORM changes behind")
                except BaseException as exc:
                    _drop_orm_changes(session)
                    db.execute(f"ROLLBACK TO {_SAVEPOINT}")
                    failed = exc
                db.execute(f"RELEASE {_SAVEPOINT}")
            else:
                nested = await session.begin_nested()
                try:
                    yield session
                    await session.flush()
                except BaseException as exc:
                    await nested.rollback()
                    failed = exc
                else:
                    await nested.commit()
        finally:
            if not turn.body_done.done():
                turn.body_done.set_result(None)
        if failed is not None:
            # The unit's error is raised once its batch is settled, so the caller
            # then sees what the batch's other units stored (a redelivery whose
            # unique key clashed with a unit of the same batch finds that message).
            if isinstance(failed, Exception):
                with contextlib.suppress(Exception):
                    await asyncio.shield(turn.committed)
            raise failed
        try:
            await asyncio.shield(turn.committed)
        except asyncio.CancelledError:
            # Nobody waits for this commit's outcome any more: do not log it as unretrieved.
            turn.committed.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise

    def _next(self) -> _Turn | None:
        if self._urgent:
            return self._urgent.popleft()
        return self._waiting.popleft() if self._waiting else None

    async def _lead(self) -> None:
        loop = asyncio.get_running_loop()
        while self._urgent or self._waiting:
            batch: list[_Turn] = []
            try:
                async with self.sessions() as session, session.begin():
                    deadline = loop.time() + MAX_BATCH_SECONDS
                    while (
                        len(batch) < self.max_batch
                        and loop.time() < deadline
                        and (turn := self._next()) is not None
                    ):
                        if turn.granted.cancelled():
                            continue
                        batch.append(turn)
                        turn.granted.set_result(session)
                        await turn.body_done
                        await asyncio.sleep(0)  # let writers that are ready join this batch
            except BaseException as exc:
                for turn in batch:
                    if not turn.committed.done():
                        turn.committed.set_exception(_CommitFailed(exc))
                if not isinstance(exc, Exception):
                    raise
                log.exception("group commit of %d unit(s) failed", len(batch))
            else:
                self.batches += 1
                self.units += len(batch)
                for turn in batch:
                    turn.committed.set_result(None)


def _drop_orm_changes(session: AsyncSession) -> None:
    """Forget ORM changes a failed plain unit left pending (none are expected)."""
    sync = session.sync_session
    for obj in list(sync.new):
        sync.expunge(obj)
    for obj in list(sync.dirty) + list(sync.deleted):
        sync.expire(obj)


class _CommitFailed(Exception):
    """The batch this unit belonged to could not be committed; nothing of it was stored."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the transaction could not be committed: {cause}")
        self.__cause__ = cause
