"""Engine and session factory: SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BEGIN = "guichet_sqlite_begin"
"""Execution option: ``DEFERRED`` begins a read-only SQLite transaction; the default,
``IMMEDIATE``, begins holding the write lock."""


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        if parsed.get_driver_name() == "aiosqlite":
            # Statements inline, lock waits and fsyncs in a thread (gateway/db/sqlite_inline.py).
            from gateway.db.sqlite_inline import dbapi

            kwargs["module"] = dbapi()
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver must not begin transactions on its own: ``_sqlite_begin`` does,
            # so a write transaction can take SQLite's write lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns, so an acknowledged message
            # survives a power loss too (measured: 0.15 ms a commit, docs/architecture.md).
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE unless told otherwise: a transaction that reads, then writes,
            # holds the write lock from its first read (no lost update, no
            # SQLITE_BUSY on upgrading a read lock); read-only snapshots ask DEFERRED.
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
