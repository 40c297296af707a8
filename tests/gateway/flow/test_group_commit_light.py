"""Light group-commit units (the mail accept's): written in batches of their own on a
kept connection, with the same guarantees as any unit — returned only once on disk,
a failure alone, a failed commit reported to each caller of its batch and nothing
of it stored, the write lock of another process waited for off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from gateway.config import Settings
from gateway.flow.store import SqlStore
from tests.gateway.flow.disk import on_disk


async def light_write(store: SqlStore, n: int, fail: bool = False) -> int:
    async with store.tx(light=True) as tx:
        assert tx.hot is not None
        await tx.hot.enqueue(tx, "work", {"n": n})
        if fail:
            raise ValueError(f"unit {n} fails")
    return n


async def test_a_light_unit_returns_only_once_its_row_is_on_disk(store: SqlStore, settings: Settings) -> None:
    async with store.tx(light=True) as tx:
        assert tx.hot is not None
        await tx.hot.enqueue(tx, "work", {"n": 1})
        assert on_disk(settings) == []  # not visible to anyone else yet
    assert on_disk(settings) == [1]
    await light_write(store, 2)  # the next batch, on the same kind of connection
    assert on_disk(settings) == [1, 2]
    assert store.group is not None and store.group.light_batches == 2


async def test_light_units_share_commits_with_each_other_and_a_failure_stays_alone(
    store: SqlStore, settings: Settings
) -> None:
    results = await asyncio.gather(*(light_write(store, n, fail=n == 7) for n in range(30)),
                                   return_exceptions=True)
    assert [str(r) for r in results if isinstance(r, Exception)] == ["unit 7 fails"]
    assert sorted(on_disk(settings)) == [n for n in range(30) if n != 7]
    assert store.group is not None and store.group.units == 30
    assert 1 <= store.group.light_batches == store.group.batches < 10


async def test_light_and_orm_units_mixed_are_all_committed(store: SqlStore, settings: Settings) -> None:
    """A light batch ends before a unit that is not light; that one gets an ORM
    session, and light units may join its batch."""

    async def orm_write(n: int) -> int:
        async with store.tx() as tx:
            tx.enqueue("work", {"n": n})
            await tx.session.flush()
            if n == 8:
                raise ValueError("unit 8 fails")
        return n

    writes = [light_write(store, n, fail=n == 4) if n % 3 != 2 else orm_write(n) for n in range(30)]
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert sorted(str(r) for r in results if isinstance(r, Exception)) == ["unit 4 fails", "unit 8 fails"]
    assert sorted(on_disk(settings)) == [n for n in range(30) if n not in (4, 8)]
    assert store.group is not None and store.group.light_batches >= 1 and store.group.units == 30


async def test_a_light_batch_that_cannot_commit_fails_its_callers_and_stores_nothing(
    store: SqlStore, settings: Settings
) -> None:
    with sqlite3.connect(settings.data_path / "guichet.db") as conn:
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")

    async def orphan() -> None:  # a foreign key checked at COMMIT: the commit itself fails
        async with store.tx(light=True) as tx:
            assert tx.hot is not None
            db = await tx.hot.db()
            db.execute("PRAGMA defer_foreign_keys = ON")
            db.execute("INSERT INTO child (parent_id) VALUES (42)")
            await tx.hot.enqueue(tx, "work", {"n": 1})

    with pytest.raises(Exception, match="could not be committed"):
        await orphan()
    assert on_disk(settings) == []
    assert await light_write(store, 2) == 2  # the next batch commits (on a new connection)
    assert on_disk(settings) == [2]


async def test_a_light_batch_waits_for_another_process_lock_off_the_event_loop(
    store: SqlStore, settings: Settings
) -> None:
    other = sqlite3.connect(settings.data_path / "guichet.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    writing = asyncio.create_task(light_write(store, 3))
    await asyncio.sleep(0.3)
    assert not writing.done() and ticks >= 10  # the loop kept running while the writer waited
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(writing, 10) == 3
    tick_task.cancel()
    assert on_disk(settings) == [3]


async def test_light_units_after_the_leader_let_its_connection_go_are_committed(
    store: SqlStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.flow import group_commit

    monkeypatch.setattr(group_commit, "LIGHT_LINGER_SECONDS", 0.01)
    await light_write(store, 1)
    await asyncio.sleep(0.05)  # the leader has stopped, its connection back in the pool
    assert await asyncio.wait_for(asyncio.gather(light_write(store, 2), light_write(store, 3)), 10) == [2, 3]
    assert on_disk(settings) == [1, 2, 3]
