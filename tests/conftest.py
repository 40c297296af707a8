"""Shared fixtures: settings in a temp dir, a migrated SQLite store, a stub retriever."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from gateway.config import Settings  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config, items


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


@pytest.fixture
async def migrated(settings: Settings) -> AsyncIterator[Settings]:
    from gateway.db.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    yield settings
