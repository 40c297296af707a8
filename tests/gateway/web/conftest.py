"""The console app on a temp-dir SQLite store, with an in-memory OperatorService."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.tables import Base
from gateway.errors import NotFoundError
from gateway.flow.bus import InProcessEventBus
from gateway.models import AuthorKind, ConversationState, MessageKind, TicketStatus
from gateway.views import ConversationView, MessageView, TicketView, UserView
from gateway.web import keys
from gateway.web.console import make_jinja_env, setup_console

PASSWORD = "correct horse battery"
T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


@dataclass
class FakeOperators:
    """OperatorService in memory: records every call, raises what it is told to."""

    tickets: dict[int, TicketView] = field(default_factory=dict)
    conversations: dict[int, ConversationView] = field(default_factory=dict)
    history: dict[int, list[MessageView]] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    fail: dict[str, Exception] = field(default_factory=dict)

    def _check(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def _ticket(self, ticket_id: int) -> TicketView:
        if ticket_id not in self.tickets:
            raise NotFoundError(f"no ticket {ticket_id}")
        return self.tickets[ticket_id]

    def _conversation(self, conversation_id: int) -> ConversationView:
        if conversation_id not in self.conversations:
            raise NotFoundError(f"no conversation {conversation_id}")
        return self.conversations[conversation_id]

    async def list_tickets(
        self,
        statuses: Sequence[TicketStatus] = (TicketStatus.NEW, TicketStatus.OPEN),
        queue: str | None = None,
    ) -> list[TicketView]:
        self._check("list_tickets", tuple(statuses), queue)
        return [
            t for t in self.tickets.values()
            if t.status in statuses and (queue is None or t.queue == queue)
        ]

    async def get_ticket(self, ticket_id: int) -> TicketView:
        self._check("get_ticket", ticket_id)
        return self._ticket(ticket_id)

    async def get_conversation(self, conversation_id: int) -> ConversationView:
        self._check("get_conversation", conversation_id)
        return self._conversation(conversation_id)

    async def messages(self, conversation_id: int, *, include_internal: bool = True) -> list[MessageView]:
        self._check("messages", conversation_id, include_internal)
        self._conversation(conversation_id)
        return list(self.history.get(conversation_id, []))

    async def take_over(self, ticket_id: int, user: UserView) -> TicketView:
        self._check("take_over", ticket_id, user.id)
        ticket = replace(
            self._ticket(ticket_id), status=TicketStatus.OPEN, assignee_id=user.id,
            assignee_name=user.display_name,
        )
        self.tickets[ticket_id] = ticket
        return ticket

    def _add(self, conversation_id: int, user: UserView, text: str, kind: MessageKind) -> MessageView:
        self._conversation(conversation_id)
        items = self.history.setdefault(conversation_id, [])
        message = MessageView(
            id=1000 + len(items), conversation_id=conversation_id, direction="out",
            author=AuthorKind.OPERATOR, author_name=user.display_name, kind=kind, text=text,
            created_at=T0,
        )
        items.append(message)
        return message

    async def reply(self, conversation_id: int, user: UserView, text: str) -> MessageView:
        self._check("reply", conversation_id, user.id, text)
        return self._add(conversation_id, user, text, MessageKind.MESSAGE)

    async def add_note(self, conversation_id: int, user: UserView, text: str) -> MessageView:
        self._check("add_note", conversation_id, user.id, text)
        return self._add(conversation_id, user, text, MessageKind.NOTE)

    async def resolve(self, ticket_id: int, user: UserView) -> TicketView:
        self._check("resolve", ticket_id, user.id)
        ticket = replace(self._ticket(ticket_id), status=TicketStatus.RESOLVED, resolved_at=T0)
        self.tickets[ticket_id] = ticket
        return ticket

    async def hand_back(self, conversation_id: int, user: UserView) -> ConversationView:
        self._check("hand_back", conversation_id, user.id)
        conversation = replace(self._conversation(conversation_id), state=ConversationState.BOT)
        self.conversations[conversation_id] = conversation
        return conversation

    @property
    def actions(self) -> list[str]:
        """Names of the state-changing calls made so far."""
        reads = {"list_tickets", "get_ticket", "get_conversation", "messages"}
        return [c[0] for c in self.calls if c[0] not in reads]


def ticket_view(ticket_id: int = 1, *, subject: str = "Cannot log in", customer: str = "Bob",
                status: TicketStatus = TicketStatus.NEW) -> TicketView:
    return TicketView(
        id=ticket_id, number=f"G-{ticket_id:04d}", conversation_id=10 + ticket_id, status=status,
        queue="L1", priority="normal", subject=subject, created_at=T0, updated_at=T0,
        customer_name=customer, channel="webchat", handoff_reason="explicit_request",
    )


def seed(operators: FakeOperators, ticket: TicketView, texts: Sequence[tuple[str, str, str]] = ()) -> None:
    """Add a ticket, its conversation and messages given as (author, kind, text)."""
    operators.tickets[ticket.id] = ticket
    cid = ticket.conversation_id
    operators.conversations[cid] = ConversationView(
        id=cid, channel=ticket.channel, thread_key=f"chat-{cid}", state=ConversationState.PENDING,
        customer_id=1, customer_name=ticket.customer_name, customer_address="visitor-1", lang="en",
        created_at=T0, updated_at=T0, ticket=ticket,
    )
    operators.history[cid] = [
        MessageView(
            id=100 * cid + i, conversation_id=cid, direction="in" if author == "customer" else "out",
            author=AuthorKind(author), author_name="", kind=MessageKind(kind), text=text, created_at=T0,
        )
        for i, (author, kind, text) in enumerate(texts)
    ]


@dataclass
class Console:
    app: web.Application
    client: TestClient[web.Request, web.Application]
    operators: FakeOperators
    bus: InProcessEventBus
    clock: FakeClock
    sessions: async_sessionmaker[AsyncSession]
    user: UserView

    async def login(self, name: str = "alice", password: str = PASSWORD) -> str:
        """Log in through the form; returns the session's CSRF token."""
        response = await self.post_login(name, password)
        assert response.status == 302, await response.text()
        page = await self.client.get("/console")
        assert page.status == 200
        return csrf_in(await page.text(), "csrf-token")

    async def post_login(self, name: str, password: str, next_url: str = "") -> Any:
        form = await self.client.get("/console/login")
        token = csrf_in(await form.text(), "csrf_token")
        data = {"csrf_token": token, "username": name, "password": password, "next": next_url}
        return await self.client.post("/console/login", data=data, allow_redirects=False)


def csrf_in(html: str, name: str) -> str:
    """The CSRF token in a page: ``<meta name=NAME content=..>`` or ``<input name=NAME value=..>``."""
    found = re.search(rf'name="{name}" (?:content|value)="([^"]+)"', html)
    assert found, f"no {name} in page"
    return found.group(1)


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


def build_app(settings: Settings, sessions: Any, operators: Any, bus: Any, clock: Any) -> web.Application:
    app = web.Application()
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.BUS] = bus
    app[keys.SESSIONS] = sessions
    app[keys.OPERATORS] = operators
    app[keys.JINJA] = make_jinja_env()
    app[keys.SECRET] = b"test-secret-key-of-32-bytes-long"
    setup_console(app)
    return app


@pytest.fixture
async def console(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]],
) -> Console:
    operators = FakeOperators()
    bus = InProcessEventBus()
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    user = await create_user(sessions, "alice", PASSWORD, "operator", "Alice")
    app = build_app(settings, sessions, operators, bus, clock)
    client = await aiohttp_client(app)
    return Console(app, client, operators, bus, clock, sessions, user)
