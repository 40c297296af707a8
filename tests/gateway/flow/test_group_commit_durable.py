"""Light batches commit without waiting for the disk and hand their units back only
after the log's fsync (gateway/db/wal_sync.py): what a caller was told is committed
was on disk before it was told so; a failed fsync is a failure for its callers; the
connection goes back to the pool as it came (``synchronous=FULL``)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from gateway.config import Settings
from gateway.db import wal_sync
from gateway.flow import group_commit
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from tests.gateway.flow.disk import on_disk


async def enqueue(tx: Tx, n: int) -> int:
    assert tx.hot is not None
    await tx.hot.enqueue(tx, "work", {"n": n})
    return n


async def test_a_unit_returns_only_after_an_fsync_begun_once_it_was_committed(
    store: SqlStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed_at_fsync: list[list[int]] = []
    real = wal_sync.fsync_file

    def watched(path: str) -> None:
        committed_at_fsync.append(on_disk(settings))  # what is committed when this fsync begins
        real(path)

    monkeypatch.setattr(wal_sync, "fsync_file", watched)
    results = await asyncio.gather(*(store.apply(lambda tx, n=n: enqueue(tx, n), urgent=n % 2 == 0)
                                     for n in range(20)))
    assert results == list(range(20))
    assert committed_at_fsync and set(committed_at_fsync[-1]) == set(range(20))
    one = await store.apply(lambda tx: enqueue(tx, 99))
    assert one == 99 and 99 in committed_at_fsync[-1]
    assert store.group is not None and store.group.light_batches >= 2


async def test_a_failed_fsync_fails_the_units_that_waited_for_it(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wal_sync, "fsync_file", broken)
    with pytest.raises(Exception, match="No space left on device"):
        await store.apply(lambda tx: enqueue(tx, 1))


async def test_the_connection_goes_back_to_the_pool_committing_with_fsync(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "LIGHT_LINGER_SECONDS", 0.01)
    await store.apply(lambda tx: enqueue(tx, 1))
    await asyncio.sleep(0.1)  # the leader let the connection go
    assert store.group is not None and store.group._light is None
    async with store.sessions() as session:  # the pool's one connection, given back
        assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL
