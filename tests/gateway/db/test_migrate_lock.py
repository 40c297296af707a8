"""Two processes starting together on a new SQLite database: both end with the
schema at head, neither fails (they migrate one after the other)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from gateway.db.migrate import alembic_config


def test_two_processes_migrating_at_once_both_succeed(tmp_path: Path) -> None:
    env = {**os.environ, "GUICHET_SERVER_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "gateway.cli", "db", "upgrade"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(3)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    with sqlite3.connect(tmp_path / "data" / "guichet.db") as conn:
        [(version,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    head = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_current_head()
    assert version == head
