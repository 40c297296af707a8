"""An aiosqlite-shaped driver that runs SQLite statements inline on the event loop,
and only what can wait (taking the write lock, the commit's fsync) in a thread.

Why: aiosqlite sends every statement to its own thread and back.  A statement
of ours on a WAL database takes tens of microseconds; the round trip through
the thread and the event loop costs several times that, and a conversation costs
some thirty statements (measured: ``bench/README.md``, "Web chat").  So here a
statement runs where it is called.  What can block for long goes to a thread:
``BEGIN IMMEDIATE`` (it may wait for another process's write lock, up to the
busy timeout) and ``COMMIT`` (it waits for the disk with ``synchronous=FULL``).
Readers never wait in WAL mode.

SQLAlchemy's own aiosqlite adapter drives it (``make_engine`` passes
``module=DBAPI``), so the ORM, the pool and the dialect are unchanged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from sqlite3 import (  # noqa: F401 - the DBAPI names SQLAlchemy's adapter copies
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    sqlite_version,
    sqlite_version_info,
)
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

_LOCKING = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")
_WAITING = (*_LOCKING, "COMMIT", "END")


def _may_wait(sql: str) -> bool:
    return sql.lstrip()[:16].upper().startswith(_WAITING)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class _Queue:
    """Stands for aiosqlite's internal queue, which SQLAlchemy uses to set the
    isolation level: the function runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class Cursor:
    def __init__(self, connection: Connection) -> None:
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        if not _may_wait(sql):
            self._cursor.execute(sql, parameters)
        elif sql.lstrip()[:16].upper().startswith(_LOCKING) and self._try_lock_now(sql):
            pass  # the write lock was free: taken without leaving the loop
        else:
            await asyncio.to_thread(self._cursor.execute, sql, parameters)
        return self

    def _try_lock_now(self, sql: str) -> bool:
        """Take the write lock at once if nobody holds it (no busy wait); False if
        another connection holds it: then the caller waits for it in a thread."""
        conn = self._cursor.connection
        timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute("PRAGMA busy_timeout=0")
        try:
            self._cursor.execute(sql)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(timeout)}")
        return True

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Connection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _Queue()
        self._changes_at_commit = conn.total_changes

    def cursor(self) -> Cursor:
        return Cursor(self)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for statements run in the caller's
        transaction with no async round trip (``gateway.flow.hot_sql``)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        return await Cursor(self).execute(sql, parameters)

    async def commit(self) -> None:
        if self._conn.total_changes == self._changes_at_commit:
            self._conn.commit()  # nothing written: no fsync to wait for
        else:
            await asyncio.to_thread(self._conn.commit)  # the fsync waits off the loop
        self._changes_at_commit = self._conn.total_changes

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class _Opening:
    """What ``connect`` returns: awaitable, with the ``_thread`` SQLAlchemy marks daemon."""

    _thread = SimpleNamespace(daemon=True)

    def __init__(self, database: str, kw: dict[str, Any]) -> None:
        self.database = database
        self.kw = kw

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._open().__await__()

    async def _open(self) -> Connection:
        kw = {k: v for k, v in self.kw.items() if k in ("timeout", "detect_types", "uri")}

        def open_() -> sqlite3.Connection:
            return sqlite3.connect(self.database, check_same_thread=False, isolation_level=None, **kw)

        return Connection(await asyncio.to_thread(open_))


def connect(database: str, **kw: Any) -> _Opening:
    return _Opening(database, kw)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module for ``create_async_engine(..., module=dbapi())``."""
    import sys

    return AsyncAdapt_aiosqlite_dbapi(sys.modules[__name__], sqlite3)
