"""SQLite group commit: writers that arrive together share one commit; a unit that
fails rolls back alone; a unit returns only once its data is on disk."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import select

from gateway.config import Settings
from gateway.db.tables import Job
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from tests.gateway.flow.disk import on_disk


async def test_writers_that_arrive_together_share_commits_and_a_failure_stays_alone(
    store: SqlStore, settings: Settings
) -> None:
    async def write(n: int) -> int:
        async with store.tx() as tx:
            tx.enqueue("work", {"n": n})
            await tx.session.flush()
            if n == 7:
                raise ValueError("unit 7 fails")
        return n

    results = await asyncio.gather(*(write(n) for n in range(30)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and str(errors[0]) == "unit 7 fails"
    assert sorted(on_disk(settings)) == [n for n in range(30) if n != 7]
    assert store.group is not None and store.group.units == 30
    assert store.group.batches < 10  # 30 writers, far fewer commits (fsyncs)


async def test_a_writer_returns_only_after_its_commit(store: SqlStore, settings: Settings) -> None:
    async with store.tx() as tx:
        tx.enqueue("work", {"n": 1})
        await tx.session.flush()
        assert on_disk(settings) == []  # not yet visible to anyone else
    assert on_disk(settings) == [1]


async def test_a_lock_held_by_another_process_is_waited_for_off_the_event_loop(
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

    async def write() -> None:
        async with store.tx() as tx:
            tx.enqueue("work", {"n": 2})

    tick_task = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done() and ticks >= 10  # the loop kept running while the writer waited
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writing, 10)
    tick_task.cancel()
    async with store.read() as tx:
        assert [j.payload["n"] for j in (await tx.session.execute(select(Job))).scalars()] == [2]


async def test_plain_units_share_commits_with_orm_units_and_a_failure_stays_alone(
    store: SqlStore, settings: Settings
) -> None:
    """Plain-SQL units (the web chat's accept, answer and "sent") take their savepoint on
    the sqlite3 connection itself: mixed with ORM units in one batch, a failing one
    is still rolled back alone."""

    async def write(n: int) -> int:
        async with store.tx(plain=n % 2 == 0) as tx:
            if n % 2 == 0:
                assert tx.hot is not None
                await tx.hot.enqueue(tx, "work", {"n": n})
            else:
                tx.enqueue("work", {"n": n})
                await tx.session.flush()
            if n in (6, 7):
                raise ValueError(f"unit {n} fails")
        return n

    results = await asyncio.gather(*(write(n) for n in range(30)), return_exceptions=True)
    assert sorted(str(r) for r in results if isinstance(r, Exception)) == ["unit 6 fails", "unit 7 fails"]
    assert sorted(on_disk(settings)) == [n for n in range(30) if n not in (6, 7)]
    assert store.group is not None and store.group.batches < 10


async def test_a_plain_unit_that_writes_through_the_orm_fails_and_stores_nothing(
    store: SqlStore, settings: Settings
) -> None:
    with pytest.raises(RuntimeError, match="plain group-commit unit left ORM changes"):
        async with store.tx(plain=True) as tx:
            tx.enqueue("work", {"n": 1})  # an ORM row: not what a plain unit may do
    async with store.tx(plain=True) as tx:
        assert tx.hot is not None
        await tx.hot.enqueue(tx, "work", {"n": 2})
    assert on_disk(settings) == [2]


async def test_units_run_by_the_leader_return_their_value_after_the_commit_and_fail_alone(
    store: SqlStore, settings: Settings
) -> None:
    """``store.apply``: the body is run by the group commit's leader (the web chat's
    accept, the first answer, the "sent" mark); its value comes back only once the
    batch is on disk; a failing body rolls back alone, mixed with ``with`` units."""
    seen_before_commit: list[bool] = []

    async def body(tx: Tx, n: int) -> int:
        assert tx.hot is not None
        await tx.hot.enqueue(tx, "work", {"n": n})
        seen_before_commit.append(n in on_disk(settings))
        if n in (4, 8):
            raise ValueError(f"unit {n} fails")
        return n * 10

    async def write(n: int) -> int:
        if n % 3 == 0:  # a unit written as a with-block, in the same batches
            async with store.tx(plain=True) as tx:
                assert tx.hot is not None
                await tx.hot.enqueue(tx, "work", {"n": n})
            return n * 10
        return await store.apply(lambda tx: body(tx, n), urgent=n % 2 == 0)

    results = await asyncio.gather(*(write(n) for n in range(30)), return_exceptions=True)
    assert sorted(str(r) for r in results if isinstance(r, Exception)) == ["unit 4 fails", "unit 8 fails"]
    stored = [n for n in range(30) if n not in (4, 8)]
    assert [r for r in results if not isinstance(r, Exception)] == [n * 10 for n in stored]
    assert sorted(on_disk(settings)) == stored
    assert seen_before_commit and not any(seen_before_commit)  # invisible to others before the commit
    assert store.group is not None and store.group.batches < 10


async def test_a_unit_cancelled_before_the_leader_reaches_it_stores_nothing(
    store: SqlStore, settings: Settings
) -> None:
    async def body(tx: Tx, n: int) -> int:
        assert tx.hot is not None
        await tx.hot.enqueue(tx, "work", {"n": n})
        return n

    async def slow(tx: Tx) -> None:  # holds the batch while the next unit is cancelled
        assert tx.hot is not None
        await tx.hot.enqueue(tx, "work", {"n": 1})
        await asyncio.sleep(0.05)

    first = asyncio.create_task(store.apply(slow))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(store.apply(lambda tx: body(tx, 2)))
    await asyncio.sleep(0.01)
    second.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    assert await store.apply(lambda tx: body(tx, 3)) == 3
    assert on_disk(settings) == [1, 3]


async def test_a_body_run_by_the_leader_that_writes_through_the_orm_fails_and_stores_nothing(
    store: SqlStore, settings: Settings
) -> None:
    async def orm(tx: Tx) -> None:
        tx.enqueue("work", {"n": 1})

    with pytest.raises(RuntimeError, match="plain group-commit unit left ORM changes"):
        await store.apply(orm)
    assert on_disk(settings) == []
