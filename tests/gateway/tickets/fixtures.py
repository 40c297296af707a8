"""A whole core on a controllable clock, with the ticket desk's services."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.fake import FakeChannel
from gateway.auth import create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.flow.bus import InProcessEventBus
from gateway.flow.jobs import JobRunner
from gateway.flow.outbox import Outbox
from gateway.flow.router import Router
from gateway.flow.store import SqlStore
from gateway.models import Identity, Inbound
from gateway.protocols import Event
from gateway.tickets.appointments import AppointmentService
from gateway.tickets.canned import CannedService
from gateway.tickets.desk import TicketDesk
from gateway.tickets.operators import SqlOperatorService
from gateway.tickets.queues import QueueService
from gateway.tickets.search import TicketSearch
from gateway.views import TicketView, UserView
from tests.gateway.conftest import StubRetriever

# Monday 5 January 2026, 10:00 in Paris.
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

POLICY_FILE = """
[calendars.office]
timezone = "Europe/Paris"
monday = ["09:00-12:00", "13:00-17:00"]
tuesday = ["09:00-12:00", "13:00-17:00"]
wednesday = ["09:00-12:00", "13:00-17:00"]
thursday = ["09:00-12:00", "13:00-17:00"]
friday = ["09:00-12:00", "13:00-17:00"]
holidays_country = "FR"

[[sla]]
name = "complaints"
precedence = 10
category = "complaint"
calendar = "office"
first_response = { P1 = 10, P2 = 10, P3 = 10, P4 = 10 }
resolution = { P1 = 60, P2 = 60, P3 = 60, P4 = 60 }
on_breach = ["notify"]

[[sla]]
name = "standard"
calendar = "office"
first_response = { P1 = 15, P2 = 30, P3 = 60, P4 = 120 }
next_response = { P1 = 30, P2 = 60, P3 = 120, P4 = 240 }
resolution = { P1 = 240, P2 = 480, P3 = 960, P4 = 1920 }
on_breach = ["notify", "raise_priority", "escalate"]
"""


@dataclass
class Desk:
    settings: Settings
    clock: FakeClock
    store: SqlStore
    bus: InProcessEventBus
    channel: FakeChannel
    runner: JobRunner
    operators: SqlOperatorService
    desk: TicketDesk
    queues: QueueService
    appointments: AppointmentService
    canned: CannedService
    search: TicketSearch
    events: list[Event] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def write(self, text: str, user: str = "alice") -> None:
        """The customer writes, at the clock's time; every job runs."""
        inbound = Inbound(
            channel="fake", external_id=f"{user}-{next(self._ids)}", thread_key=user,
            sender=Identity("fake", user, user.title()), text=text, received_at=self.clock.now(),
        )
        await self.store.accept_inbound(inbound)
        await self.runner.run_once()

    async def handoff(self, user: str = "alice", text: str = "I want to talk to a person") -> TicketView:
        await self.write(text, user)
        tickets = [t for t in await self.operators.list_tickets() if t.customer_name == user.title()]
        assert tickets, "no ticket opened"
        return tickets[-1]

    def topics(self) -> list[str]:
        return [e.topic for e in self.events]


@pytest.fixture
async def desk(migrated: Settings, tmp_path: Path) -> AsyncIterator[Desk]:
    settings = migrated
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_FILE)
    settings.tickets.policy_file = str(policy)
    clock = FakeClock(START)
    engine = make_engine(settings.database_url)
    bus = InProcessEventBus()
    store = SqlStore(make_session_factory(engine), clock, settings, bus)
    channel = FakeChannel()
    router = Router(store, StubRetriever({"password": ("reset-password", 0.9)}), settings)
    outbox = Outbox(store, {"fake": channel})
    runner = JobRunner(store, {"route": router.handle, "send": outbox.handle}, settings.jobs,
                       dead_handlers={"route": router.on_dead, "send": outbox.on_dead})
    await channel.start(store.accept_inbound)
    d = Desk(settings, clock, store, bus, channel, runner, SqlOperatorService(store), TicketDesk(store),
             QueueService(store), AppointmentService(store), CannedService(store), TicketSearch(store))
    original = bus.publish

    async def publish(event: Event) -> None:
        d.events.append(event)
        await original(event)

    bus.publish = publish  # type: ignore[method-assign]
    yield d
    await engine.dispose()


@pytest.fixture
async def olga(desk: Desk) -> UserView:
    return await create_user(desk.store.sessions, "olga", "correct horse battery", "operator", "Olga")


@pytest.fixture
async def paul(desk: Desk) -> UserView:
    return await create_user(desk.store.sessions, "paul", "correct horse battery", "operator", "Paul")
