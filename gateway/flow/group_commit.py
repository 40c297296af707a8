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

A plain unit can also be handed over as a function (:meth:`GroupCommitter.run`):
the leader then runs it itself, between the batch's other units, with no turn of
the event loop in between.  A unit written as a ``with`` block costs three turns
(the grant wakes its task, its end wakes the leader, the leader yields once), and
on a loaded loop each turn waits behind every other socket's work.

A *light* unit (``unit(light=True)``, plain too) may be written in a *light
batch*: when one is at the head of the queue, the leader runs it, and the light
units queued behind it, on a pool connection it keeps while it leads, with
``BEGIN IMMEDIATE`` and ``COMMIT`` sent to the driver itself (the same write lock
taken inline when free, the same commit and fsync), and an ORM session that never
connects (its units write on that connection only).  No SQLAlchemy transaction,
connection checkout (the leader keeps the connection until no unit came for
:data:`LIGHT_LINGER_SECONDS`) or session commit per batch: measured on the SMTP accept, the
per-batch cost was most of a lone mail's (bench/README.md).  A light batch ends
before the first unit that is not light; that one gets a batch of the usual kind,
which light units join like any plain one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db.wal_sync import WalSync

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
# A light batch's commit does not wait for the disk (WalSync does, for its units,
# while the next batch is written): shorter batches cost no fsync each.
LIGHT_BATCH_SECONDS = 0.01
# A leader that ran light batches keeps their connection this long after the last
# one, for the next (with one SMTP client, the next mail comes 1-3 ms after a 250).
LIGHT_LINGER_SECONDS = 0.05
# The leader yields to the event loop after this many units run in a row without a
# turn of the loop (units handed over as functions), so sockets are read meanwhile.
INLINE_RUN = 16

T = TypeVar("T")
UnitFn = Callable[[AsyncSession], Awaitable[Any]]


class _Turn:
    def __init__(self, loop: asyncio.AbstractEventLoop, light: bool = False,
                 fn: UnitFn | None = None) -> None:
        self.light = light
        self.granted: asyncio.Future[AsyncSession] = loop.create_future()
        self.body_done: asyncio.Future[None] = loop.create_future()
        self.committed: asyncio.Future[Any] = loop.create_future()
        self.fn = fn  # run by the leader itself (:meth:`GroupCommitter.run`)
        self.value: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = MAX_BATCH) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._waiting: collections.deque[_Turn] = collections.deque()
        self._urgent: collections.deque[_Turn] = collections.deque()  # a peer waits for its ack
        self._leader: asyncio.Task[None] | None = None
        bind = sessions.kw.get("bind")
        self._engine: AsyncEngine | None = bind if isinstance(bind, AsyncEngine) else None
        self._light: AsyncConnection | None = None  # the light batches' connection while a leader runs
        database = self._engine.url.database if self._engine is not None else None
        # Light batches commit with synchronous=NORMAL and are settled after WalSync's
        # fsync of the log (a file database; an in-memory one has nothing to sync).
        self._wal = WalSync(database) if database and database != ":memory:" else None
        self._idle: asyncio.Future[None] | None = None  # the leader waits for a unit, keeping it
        self.batches = 0
        self.units = 0
        self.light_batches = 0

    @asynccontextmanager
    async def unit(
        self, *, urgent: bool = False, plain: bool = False, light: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A write unit: yields the shared session inside the unit's savepoint;
        returns once the batch holding it is committed (or raises).  ``urgent``
        units (a channel's peer waits for their ack) go before the others;
        ``plain`` ones write with plain SQL only, ``light`` ones too and may be
        written in a light batch (see the module's doc)."""
        plain = plain or light
        turn = self._queue(_Turn(asyncio.get_running_loop(), light and self._engine is not None), urgent)
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
                    _check_plain(session)
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

    async def run(self, fn: Callable[[AsyncSession], Awaitable[T]], *, urgent: bool = False,
                  light: bool = False) -> T:
        """A plain unit as a function: the leader runs ``fn(session)`` itself, inside
        the unit's savepoint, and this returns its value once the batch holding it
        is committed (or raises its error, or the batch's).  ``fn`` writes with
        plain SQL only, like any plain unit, and should not wait on anything (the
        batch waits with it); ``urgent`` and ``light`` as for :meth:`unit`."""
        turn = self._queue(_Turn(asyncio.get_running_loop(), light and self._engine is not None, fn), urgent)
        try:
            value: T = await asyncio.shield(turn.committed)
        except asyncio.CancelledError:
            if not turn.granted.done():
                turn.granted.cancel()  # not taken yet: the leader skips it
            turn.committed.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise
        return value

    def _queue(self, turn: _Turn, urgent: bool) -> _Turn:
        (self._urgent if urgent else self._waiting).append(turn)
        if self._idle is not None and not self._idle.done():
            self._idle.set_result(None)  # the leader keeping the light connection goes on
        if self._leader is None or self._leader.done():
            self._leader = asyncio.create_task(self._lead(), name="sqlite-group-commit")
        return turn

    @staticmethod
    async def _run_inline(session: AsyncSession, turn: _Turn) -> None:
        assert turn.fn is not None
        db = await sqlite_connection(session)
        db.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            turn.value = await turn.fn(session)
            _check_plain(session)
        except BaseException as exc:
            _drop_orm_changes(session)
            db.execute(f"ROLLBACK TO {_SAVEPOINT}")
            db.execute(f"RELEASE {_SAVEPOINT}")
            if not isinstance(exc, Exception):
                raise  # the leader itself is stopped: the batch fails
            turn.error = exc
        else:
            db.execute(f"RELEASE {_SAVEPOINT}")

    def _next(self) -> _Turn | None:
        if self._urgent:
            return self._urgent.popleft()
        return self._waiting.popleft() if self._waiting else None

    def _head(self) -> _Turn | None:
        if self._urgent:
            return self._urgent[0]
        return self._waiting[0] if self._waiting else None

    async def _lead(self) -> None:
        try:
            while True:
                while (head := self._head()) is not None:
                    if head.light:
                        await self._light_batch()
                    else:
                        await self._batch()
                if self._light is None or not await self._unit_within(LIGHT_LINGER_SECONDS):
                    break
        finally:
            if self._leader is asyncio.current_task():
                self._leader = None  # a unit queued from now on starts a new leader
            if self._light is not None:
                light, self._light = self._light, None
                await _release(light, self._wal is not None)

    async def _unit_within(self, seconds: float) -> bool:
        """Wait (the light connection kept) until a unit is queued; False after ``seconds``."""
        self._idle = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(seconds):
                await self._idle
        except TimeoutError:
            return self._head() is not None
        finally:
            self._idle = None
        return True

    async def _take(self, session: AsyncSession, batch: list[_Turn], light: bool) -> None:
        """Grant the session to the queued units in turn until the batch is full, its
        time is up, nobody queues (or, light, the next unit is not light)."""
        seconds = LIGHT_BATCH_SECONDS if light and self._wal is not None else MAX_BATCH_SECONDS
        deadline = asyncio.get_running_loop().time() + seconds
        in_a_row = 0
        while (
            len(batch) < self.max_batch
            and asyncio.get_running_loop().time() < deadline
            and (head := self._head()) is not None
            and (head.light or not light)
        ):
            turn = self._next()
            assert turn is head
            if turn.granted.cancelled():
                continue
            batch.append(turn)
            turn.granted.set_result(session)
            if turn.fn is not None:
                await self._run_inline(session, turn)
                in_a_row += 1
                if in_a_row < INLINE_RUN and self._head() is not None:
                    continue  # the next unit at once, no turn of the loop
            else:
                await turn.body_done
            in_a_row = 0
            await asyncio.sleep(0)  # let writers that are ready join this batch

    async def _batch(self) -> None:
        batch: list[_Turn] = []
        try:
            async with self.sessions() as session, session.begin():
                await self._take(session, batch, light=False)
        except BaseException as exc:
            self._settle(batch, exc)
            if not isinstance(exc, Exception):
                raise
        else:
            self._settle(batch, None)

    async def _light_batch(self) -> None:
        """Light units in one transaction on the kept connection (see the module's doc)."""
        batch: list[_Turn] = []
        try:
            if self._light is None:
                assert self._engine is not None
                self._light = await self._engine.connect()
                if self._wal is not None:  # its commits: log written; the fsync is WalSync's
                    await (await _driver(self._light)).execute("PRAGMA synchronous=NORMAL")
            driver = await _driver(self._light)
            await driver.execute("BEGIN IMMEDIATE")  # inline when the lock is free, else in a thread
        except Exception as exc:  # as a unit's own BEGIN failing: the first unit gets the error
            await self._drop_light()
            if (turn := self._next()) is not None and not turn.granted.done():
                turn.granted.set_exception(exc)
            return
        session = self.sessions()
        session.info[_SQLITE] = driver.sqlite
        try:
            try:
                await self._take(session, batch, light=True)
                await driver.commit()
            except BaseException:
                await driver.rollback()
                raise
            finally:
                await session.close()
        except BaseException as exc:
            self._settle(batch, exc)
            await self._drop_light()  # a connection whose transaction failed is not kept
            if not isinstance(exc, Exception):
                raise
        else:
            self.light_batches += 1
            if self._wal is None:
                self._settle(batch, None)
            else:  # committed; durable once the log's next fsync returned
                self._wal.after_commit().add_done_callback(
                    lambda synced: self._settle(batch, synced.exception()))

    async def _drop_light(self) -> None:
        if self._light is not None:
            light, self._light = self._light, None
            with contextlib.suppress(Exception):
                await light.invalidate()
                await light.close()

    def _settle(self, batch: list[_Turn], failure: BaseException | None) -> None:
        if failure is None:
            self.batches += 1
            self.units += len(batch)
            for turn in batch:
                if turn.error is not None:
                    turn.committed.set_exception(turn.error)
                else:
                    turn.committed.set_result(turn.value)
            return
        for turn in batch:
            if not turn.committed.done():
                turn.committed.set_exception(_CommitFailed(failure))
        if isinstance(failure, Exception):
            log.error("group commit of %d unit(s) failed", len(batch), exc_info=failure)


async def _release(light: AsyncConnection, normal: bool) -> None:
    """Give the light batches' connection back to the pool as it was taken (its other
    users commit with ``synchronous=FULL``)."""
    if normal:
        try:
            await (await _driver(light)).execute("PRAGMA synchronous=FULL")
        except Exception:
            await light.invalidate()  # never pooled with NORMAL
    await light.close()


async def _driver(conn: AsyncConnection) -> Any:
    """The driver connection (:mod:`gateway.db.sqlite_inline`) under ``conn``."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


def _check_plain(session: AsyncSession) -> None:
    if not session.sync_session._is_clean():
        raise RuntimeError("a plain group-commit unit left ORM changes behind")


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
