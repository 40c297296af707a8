"""The log's group fsync: a commit is reported durable only after an fsync that began
after it; commits that arrive while one runs share the next; a failed fsync is
reported, a log that is gone needs none."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from gateway.db import wal_sync
from gateway.db.wal_sync import WalSync


async def test_a_commit_made_during_an_fsync_waits_for_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "db-wal").write_bytes(b"log")
    started: list[threading.Event] = []
    release = threading.Event()

    def slow_fsync(path: str) -> None:
        started.append(threading.Event())
        release.wait(5)

    monkeypatch.setattr(wal_sync, "fsync_file", slow_fsync)
    sync = WalSync(str(tmp_path / "db"))
    first = sync.after_commit()
    while not started:
        await asyncio.sleep(0.001)
    second, third = sync.after_commit(), sync.after_commit()  # commits made while it runs
    release.set()
    await first
    assert not second.done() and len(started) <= 2  # the fsync it got was begun before it
    await asyncio.gather(second, third)
    assert sync.fsyncs == 2  # the two later commits shared one


async def test_a_failed_fsync_is_reported_to_the_commits_waiting_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wal_sync, "fsync_file", broken)
    with pytest.raises(OSError, match="Input/output error"):
        await WalSync(str(tmp_path / "db")).after_commit()


async def test_the_real_fsync_of_a_log_and_of_a_log_that_is_gone(tmp_path: Path) -> None:
    (tmp_path / "db-wal").write_bytes(b"log")
    sync = WalSync(str(tmp_path / "db"))
    await sync.after_commit()
    WalSync(str(tmp_path / "none")).after_commit()
    await WalSync(str(tmp_path / "none")).after_commit()  # no log: checkpointed and removed
    assert sync.fsyncs == 1
