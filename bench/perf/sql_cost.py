"""What one SQL statement costs through each layer, on the store's own SQLite setup.

``python -m bench.perf.sql_cost``: the same one-row select of the hot path
(the latest conversation of a thread) through the ORM, SQLAlchemy Core, a
``text()`` statement, ``exec_driver_sql`` and the driver itself, 500 times each
inside one transaction; prints the mean per statement.  It says where a
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


def main() -> None:
    for name, ms in asyncio.run(measure()).items():
        print(f"{name:28s} {ms:7.3f} ms a statement")


if __name__ == "__main__":
    main()
