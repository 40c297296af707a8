"""What one SQL statement costs through each layer, on the store's own SQLite setup.

``python -m bench.perf.sql_cost``: the same one-row select of the hot path
(the latest conversation of a thread) through the ORM, SQLAlchemy Core, a
``text()`` statement, ``exec_driver_sql`` and the driver itself, 500 times each
inside one transaction; prints the mean per statement.  Then a whole accept (the
inbox's transaction: identity, conversation, message, route job) for 400 concurrent
new visitors, through the store as it is (ORM) and as plain SQL on the driver inside
the same group-commit units: what a hot path off the ORM would gain.  It says where a
conversation's time goes (bench/README.md, "Latest figures").
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, text

from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.migrate import upgrade
from gateway.db.tables import Conversation

SQL = "SELECT id, state FROM conversations WHERE channel = ? AND thread_key = ? ORDER BY id DESC LIMIT 1"


async def measure(rounds: int = 500) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="guichet-sqlcost-") as tmp:
        settings = Settings()
        settings.server.data_dir = tmp
        await asyncio.to_thread(upgrade, settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            async with make_session_factory(engine)() as session, session.begin():
                conn = await session.connection()
                driver: Any = (await conn.get_raw_connection()).driver_connection
                named = text(SQL.replace("= ?", "= :c", 1).replace("= ?", "= :t", 1))

                async def raw() -> object:
                    return await (await driver.execute(SQL, ("w", "t"))).fetchall()

                layers: dict[str, Callable[[], Awaitable[object]]] = {
                    "ORM select(Conversation)": lambda: session.execute(
                        select(Conversation)
                        .where(Conversation.channel == "w", Conversation.thread_key == "t")
                        .order_by(Conversation.id.desc())
                        .limit(1)
                    ),
                    "Core select(columns)": lambda: session.execute(
                        select(Conversation.id, Conversation.state)
                        .where(Conversation.channel == "w", Conversation.thread_key == "t")
                        .order_by(Conversation.id.desc())
                        .limit(1)
                    ),
                    "text()": lambda: session.execute(named, {"c": "w", "t": "t"}),
                    "exec_driver_sql": lambda: conn.exec_driver_sql(SQL, ("w", "t")),
                    "driver (sqlite_inline)": raw,
                }
                out: dict[str, float] = {}
                for name, run in layers.items():
                    for _ in range(50):
                        await run()
                    started = time.perf_counter()
                    for _ in range(rounds):
                        await run()
                    out[name] = (time.perf_counter() - started) / rounds * 1000
                return out
        finally:
            await engine.dispose()


PLAIN_ACCEPT = (
    "INSERT INTO customers(display_name, lang, created_at) VALUES ('', '', ?) RETURNING id",
    "INSERT INTO identities(customer_id, channel, address, display_name) VALUES (?, 'webchat', ?, '') "
    "RETURNING id",
    "INSERT INTO conversations(customer_id, identity_id, channel, thread_key, state, lang, created_at, "
    "updated_at) VALUES (?, ?, 'webchat', ?, 'bot', 'en', ?, ?) RETURNING id",
    "INSERT INTO messages(conversation_id, channel, external_id, direction, author_kind, author_name, "
    "kind, text, quick_replies, meta, created_at) VALUES (?, 'webchat', ?, 'in', 'customer', '', "
    "'message', 'hello', '[]', '{}', ?) RETURNING id",
    "INSERT INTO jobs(kind, payload, conversation_id, status, attempts, max_attempts, run_at, "
    "created_at, updated_at) VALUES ('route', ?, ?, 'queued', 0, 8, ?, ?, ?)",
)


async def accepts(count: int = 400) -> dict[str, float]:
    """Accepts per second, 400 new visitors at once: the store's ORM path, and the same
    rows as plain SQL on the driver in the same group-commit units (SQLite)."""
    from datetime import UTC, datetime

    from gateway.clock import SystemClock
    from gateway.flow.bus import InProcessEventBus
    from gateway.flow.store import SqlStore
    from gateway.models import Identity, Inbound

    with tempfile.TemporaryDirectory(prefix="guichet-sqlcost-") as tmp:
        settings = Settings()
        settings.server.data_dir = tmp
        await asyncio.to_thread(upgrade, settings.database_url)
        engine = make_engine(settings.database_url)
        store = SqlStore(make_session_factory(engine), SystemClock(), settings, InProcessEventBus())
        assert store.group is not None
        group = store.group
        now = datetime.now(UTC).isoformat()

        async def orm(i: int) -> None:
            who = Identity("webchat", f"orm-{i}")
            await store.accept_inbound(Inbound("webchat", f"orm-{i}", f"orm-{i}", who, "hello",
                                               datetime.now(UTC)))

        async def plain(i: int) -> None:
            async with group.unit() as session:
                conn = await session.connection()
                driver: Any = (await conn.get_raw_connection()).driver_connection
                db = driver._conn  # the sqlite3 connection under gateway.db.sqlite_inline
                customer = db.execute(PLAIN_ACCEPT[0], (now,)).fetchone()[0]
                ident = db.execute(PLAIN_ACCEPT[1], (customer, f"plain-{i}")).fetchone()[0]
                conv = db.execute(PLAIN_ACCEPT[2], (customer, ident, f"plain-{i}", now, now)).fetchone()[0]
                msg = db.execute(PLAIN_ACCEPT[3], (conv, f"plain-{i}", now)).fetchone()[0]
                db.execute(PLAIN_ACCEPT[4], (f'{{"message_id": {msg}}}', conv, now, now, now))

        out: dict[str, float] = {}
        try:
            for name, one in (("accept through the store (ORM)", orm), ("accept as plain SQL", plain)):
                started = time.perf_counter()
                await asyncio.gather(*(one(i) for i in range(count)))
                out[name] = count / (time.perf_counter() - started)
        finally:
            await engine.dispose()
        return out


def main() -> None:
    for name, ms in asyncio.run(measure()).items():
        print(f"{name:32s} {ms:7.3f} ms a statement")
    for name, rate in asyncio.run(accepts()).items():
        print(f"{name:32s} {rate:7.0f} accepts a second (400 new visitors at once)")


if __name__ == "__main__":
    main()
