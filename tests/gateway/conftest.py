"""A whole core without the web app: store, router, outbox, job runner, fake channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from channels.fake import FakeChannel
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.flow.bus import InProcessEventBus
from gateway.flow.jobs import JobRunner
from gateway.flow.outbox import Outbox
from gateway.flow.router import Router
from gateway.flow.store import SqlStore
from gateway.protocols import Hit, SearchResult
from gateway.tickets.operators import SqlOperatorService
from gateway.views import UserView


@dataclass
class StubRetriever:
    """Answers from a fixed table: the hit for the first key found in the text."""

    table: dict[str, tuple[str, float]] = field(default_factory=dict)  # keyword -> (article, conf)
    calls: list[str] = field(default_factory=list)

    async def search(self, text: str, k: int = 5) -> SearchResult:
        self.calls.append(text)
        for key, (article, confidence) in self.table.items():
            if key in text.lower():
                hit = Hit(article, f"Title {article}", f"Answer of {article}.", confidence)
                return SearchResult((hit,), confidence, "v-test")
        hit = Hit("unrelated", "Unrelated", "Nothing useful.", 0.1)
        return SearchResult((hit,), 0.1, "v-test")


@dataclass
class Core:
    settings: Settings
    store: SqlStore
    bus: InProcessEventBus
    channel: FakeChannel
    retriever: StubRetriever
    runner: JobRunner
    operators: SqlOperatorService

    async def drain(self) -> int:
        """Run every due job (route, send) until none is left."""
        return await self.runner.run_once()


@pytest.fixture
async def core(migrated: Settings) -> AsyncIterator[Core]:
    settings = migrated
    engine = make_engine(settings.database_url)
    bus = InProcessEventBus()
    store = SqlStore(make_session_factory(engine), SystemClock(), settings, bus)
    channel = FakeChannel()
    retriever = StubRetriever({"password": ("reset-password", 0.9), "invoice": ("invoices", 0.3)})
    router = Router(store, retriever, settings)
    outbox = Outbox(store, {"fake": channel})
    runner = JobRunner(
        store,
        {"route": router.handle, "send": outbox.handle},
        settings.jobs,
        dead_handlers={"route": router.on_dead, "send": outbox.on_dead},
    )
    await channel.start(store.accept_inbound)
    yield Core(settings, store, bus, channel, retriever, runner, SqlOperatorService(store))
    await engine.dispose()


@pytest.fixture
async def operator(core: Core) -> UserView:
    from gateway.auth import create_user

    return await create_user(core.store.sessions, "olga", "correct horse battery", "operator", "Olga")
