"""The durable half of a SQLite commit made with ``synchronous=NORMAL``: an fsync of
the write-ahead log, shared by every commit that returned before it began.

With ``synchronous=FULL`` SQLite fsyncs the log inside ``COMMIT``, holding the write
lock: no other transaction can be written meanwhile, and on a loaded disk that wait
(2-50 ms measured, bench/README.md stop 16) was where the group commit spent most of
its time.  With ``NORMAL`` the commit only writes the log's pages and lets the lock go;
the caller is then told "committed" only after :meth:`WalSync.after_commit`'s future
is done, i.e. after an fsync of the log that began after its commit returned — the
same guarantee as ``FULL`` (a committed transaction survives a power loss), while the
next transaction is being written.  One fsync at a time; the commits that arrive
while one runs share the next (group fsync).

A log that is gone (the last connection checkpointed it into the database file and
deleted it, and SQLite synced the database file after that checkpoint) needs no fsync.
"""

from __future__ import annotations

import asyncio
import os


class WalSync:
    def __init__(self, database: str) -> None:
        self.path = database + "-wal"
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self.fsyncs = 0

    def after_commit(self) -> asyncio.Future[None]:
        """Done once an fsync of the log that began after this call has returned
        (with the fsync's error, if it failed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(done)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="sqlite-wal-fsync")
        return done

    async def _run(self) -> None:
        while self._waiters:
            waiters, self._waiters = self._waiters, []
            try:
                await asyncio.to_thread(fsync_file, self.path)
            except OSError as exc:
                for done in waiters:
                    if not done.done():
                        done.set_exception(exc)
            else:
                self.fsyncs += 1
                for done in waiters:
                    if not done.done():
                        done.set_result(None)


def fsync_file(path: str) -> None:
    """fsync ``path`` (through a descriptor of its own: the file's pages whoever wrote
    them); a file that does not exist is nothing to sync."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
