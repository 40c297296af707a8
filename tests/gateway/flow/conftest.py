"""The group-commit tests' store: the real SqlStore on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.migrate import upgrade_async
from gateway.flow.bus import InProcessEventBus
from gateway.flow.store import SqlStore


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SqlStore]:
    await upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    yield SqlStore(make_session_factory(engine), SystemClock(), settings, InProcessEventBus())
    await engine.dispose()
