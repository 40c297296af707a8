"""Real services for tests, started on loopback in temp dirs (never mocks).

When a service's binary is missing, tests that need it are skipped on a
developer machine but FAIL in CI (``CI=true``): CI must exercise the real part.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """Skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is missing (run `make system-deps`)")
    pytest.skip(f"{what} is not installed (run `make system-deps`)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (``initdb`` + ``pg_ctl``)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            missing("PostgreSQL (Debian package postgresql)")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="guichet-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self._counter = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60)

    def start(self) -> Postgres:
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            opts,
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh empty database; returns its asyncpg SQLAlchemy URL."""
        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        self._run(
            str(self.bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-c",
            f"CREATE DATABASE {name}",
        )
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"
