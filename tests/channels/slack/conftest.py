"""The whole application with the Slack channel on, against the local Slack stand-in:
the real ``slack-bolt`` AsyncApp serves /slack/events and /slack/actions, the real
``slack-sdk`` AsyncWebClient posts to the stand-in (``slack.api_url``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.auth import create_user
from gateway.config import Settings
from gateway.views import MessageView
from gateway.web import keys
from tests.gateway.conftest import StubRetriever
from tests.support.slack_requests import SlackSender
from tests.support.slack_stub import BOT_TOKEN, SIGNING_SECRET, SlackStub

PASSWORD = "correct horse battery"
OPS = "C0OPS"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"  # two linked operators, one customer


async def until(
    check: Callable[[], Awaitable[Any]] | Callable[[], Any], what: str, timeout: float = 15.0
) -> Any:
    """Wait for background work (jobs, the bus) to show its effect; fail with ``what``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


@dataclass
class SlackSite:
    app: web.Application
    client: TestClient[web.Request, web.Application]
    stub: SlackStub
    slack: SlackSender
    settings: Settings
    csrf: str = ""

    async def messages(self, conversation_id: int) -> list[MessageView]:
        return await self.app[keys.OPERATORS].messages(conversation_id, include_internal=True)

    async def login(self, name: str) -> None:
        form = await self.client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', await form.text())
        assert token
        data = {"csrf_token": token.group(1), "username": name, "password": PASSWORD, "next": ""}
        response = await self.client.post("/console/login", data=data, allow_redirects=False)
        assert response.status == 302
        page = await self.client.get("/console")
        found = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
        assert found
        self.csrf = found.group(1)

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = await self.client.request(method, path, json=body, headers={"X-CSRF-Token": self.csrf})
        return response.status, await response.json()


def slack_settings(settings: Settings, stub: SlackStub) -> Settings:
    s = settings.slack
    s.enabled = True
    s.bot_token = BOT_TOKEN
    s.signing_secret = SIGNING_SECRET
    s.api_url = stub.base_url
    s.operators_channel = OPS
    s.operators = [f"{ALICE}=alice", f"{BOB}=bob"]
    s.min_post_interval = 0.0  # no pacing in tests (pacing has its own unit test)
    s.sync_interval = 0.0  # the catch-up is called by the tests that need it
    settings.server.public_url = "https://help.example.com"
    return settings


@pytest.fixture(autouse=True)
def _slack_part_unregistered() -> Iterator[None]:
    """The app registers the Slack GDPR part process-wide: taken back after each test."""
    yield
    from channels.slack.customer_data import PART
    from gateway.customers.parts import unregister

    unregister(PART)


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    server = await SlackStub().start()
    server.add_user(CAROL, "Carol")
    server.add_user(ALICE, "Alice")
    yield server
    await server.stop()


async def make_site(settings: Settings, stub: SlackStub, aiohttp_client: Any, **slack: Any) -> SlackSite:
    """The app; ``slack`` overrides [slack] settings (``signing_secret=""``...)."""
    retriever = StubRetriever({"password": ("reset-password", 0.9)})
    settings = slack_settings(settings, stub)
    for key, value in slack.items():
        setattr(settings.slack, key, value)
    app = create_app(settings, retriever=retriever)
    client = await aiohttp_client(app)
    sessions = app[keys.SESSIONS]
    await create_user(sessions, "alice", PASSWORD, "operator", "Alice")
    await create_user(sessions, "bob", PASSWORD, "operator", "Bob")
    sender = SlackSender(str(client.make_url("")).rstrip("/"))
    return SlackSite(app, client, stub, sender, settings)


@pytest.fixture
async def site(migrated: Settings, stub: SlackStub, aiohttp_client: Any) -> SlackSite:
    """On SQLite and on PostgreSQL."""
    return await make_site(migrated, stub, aiohttp_client)


async def ticket_root(site: SlackSite) -> Any:
    """The one ticket message in the operators' channel, once its thread is recorded
    (an operator's reply can only be matched to it from then on)."""
    from channels.slack.channel import SlackChannel

    channel = site.app[keys.CHANNELS]["slack"]
    assert isinstance(channel, SlackChannel) and channel.records is not None
    records = channel.records

    async def recorded() -> list[Any]:
        roots = [m for m in site.stub.posted(channel=OPS) if not m.thread_ts]
        threads = await records.threads()
        return roots if roots and any(t.ts == roots[0].ts for t in threads) else []

    roots = await until(recorded, "the ticket in the operators' channel")
    assert len(roots) == 1
    return roots[0]
