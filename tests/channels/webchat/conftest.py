"""In-test fakes for the web-chat channel: the core's accept/history, a bus, a clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from channels.webchat import WebChatChannel
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.flow.channel_context import ChannelContext
from gateway.models import (
    AcceptResult,
    AuthorKind,
    ConversationState,
    Identity,
    Inbound,
    MessageKind,
    Outbound,
    QuickReply,
)
from gateway.protocols import Event
from gateway.views import ConversationView, MessageView

SECRET = b"test-secret-key-for-webchat"


class FakeBus:
    """In-memory publish/subscribe; a subscription is live as soon as it is made."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self._subs: list[tuple[tuple[str, ...], asyncio.Queue[Event]]] = []

    async def publish(self, event: Event) -> None:
        self.published.append(event)
        for prefixes, queue in self._subs:
            if any(event.topic.startswith(p) for p in prefixes):
                queue.put_nowait(event)

    def subscribe(self, *prefixes: str) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subs.append((prefixes, queue))

        class _Sub:
            def __aiter__(self) -> _Sub:
                return self

            async def __anext__(self) -> Event:
                return await queue.get()

        return _Sub()


@dataclass
class FakeCore:
    """What the channel sees of the core: ``accept`` (deduping like inbox.accept
    does) and ``history``.  ``gate`` makes accept wait; ``fail`` makes it raise."""

    clock: FakeClock
    inbounds: list[Inbound] = field(default_factory=list)
    conversations: dict[str, int] = field(default_factory=dict)  # thread_key -> id
    messages: dict[int, list[MessageView]] = field(default_factory=dict)
    seen: dict[str, AcceptResult] = field(default_factory=dict)
    history_calls: list[tuple[str, str]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    fail: Exception | None = None
    history_fail: Exception | None = None
    leak_everything: bool = False  # simulate a buggy store returning too much
    next_id: int = 100

    def _conversation(self, thread_key: str) -> int:
        if thread_key not in self.conversations:
            self.conversations[thread_key] = len(self.conversations) + 1
            self.messages[self.conversations[thread_key]] = []
        return self.conversations[thread_key]

    def _add(self, conversation_id: int, **kw: Any) -> MessageView:
        self.next_id += 1
        view = MessageView(id=self.next_id, conversation_id=conversation_id,
                           created_at=self.clock.now(), **kw)
        self.messages[conversation_id].append(view)
        return view

    async def accept(self, inbound: Inbound) -> AcceptResult:
        self.inbounds.append(inbound)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        if inbound.external_id in self.seen:  # a redelivery: nothing new stored
            first = self.seen[inbound.external_id]
            return AcceptResult(first.message_id, first.conversation_id, True)
        cid = self._conversation(inbound.thread_key)
        view = self._add(cid, direction="in", author=AuthorKind.CUSTOMER,
                         author_name=inbound.sender.display_name, kind=MessageKind.MESSAGE,
                         text=inbound.text)
        result = AcceptResult(view.id, cid, False)
        self.seen[inbound.external_id] = result
        return result

    def reply(self, thread_key: str, text: str, *, author: AuthorKind = AuthorKind.BOT,
              kind: MessageKind = MessageKind.MESSAGE,
              quick_replies: tuple[QuickReply, ...] = ()) -> Outbound:
        """Store an outgoing message as the core would, and return its Outbound."""
        cid = self._conversation(thread_key)
        name = "Colibri bot" if author is AuthorKind.BOT else "Alice"
        view = self._add(cid, direction="out", author=author, author_name=name, kind=kind,
                         text=text, quick_replies=quick_replies)
        return Outbound(message_id=view.id, conversation_id=cid, channel="webchat",
                        thread_key=thread_key, recipient=_identity(thread_key), text=text,
                        author=author, author_name=name, quick_replies=quick_replies,
                        created_at=view.created_at)

    async def history(
        self, channel: str, thread_key: str
    ) -> tuple[ConversationView | None, list[MessageView]]:
        self.history_calls.append((channel, thread_key))
        if self.history_fail is not None:
            raise self.history_fail
        cid = self.conversations.get(thread_key)
        if cid is None:
            return None, []
        now = self.clock.now()
        conv = ConversationView(id=cid, channel=channel, thread_key=thread_key,
                                state=ConversationState.BOT, customer_id=cid,
                                customer_name="", customer_address=thread_key, lang="en",
                                created_at=now, updated_at=now)
        if self.leak_everything:
            return conv, [m for msgs in self.messages.values() for m in msgs]
        return conv, [m for m in self.messages[cid] if m.customer_visible]


def _identity(thread_key: str) -> Identity:
    return Identity("webchat", thread_key, "")


@pytest.fixture
def settings() -> Settings:
    s = Settings()
    s.webchat.max_frame_bytes = 4096
    s.webchat.max_message_chars = 200
    s.webchat.token_ttl_days = 30
    return s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def core(clock: FakeClock) -> FakeCore:
    return FakeCore(clock)


@pytest.fixture
def ctx(settings: Settings, clock: FakeClock, bus: FakeBus, core: FakeCore) -> ChannelContext:
    return ChannelContext(settings=settings, clock=clock, bus=bus, secret_key=SECRET,
                          history=core.history)


@pytest.fixture
async def channel(ctx: ChannelContext, core: FakeCore) -> AsyncIterator[WebChatChannel]:
    chan = WebChatChannel(ctx)
    await chan.start(core.accept)
    yield chan
    await chan.stop()


@pytest.fixture
async def client(aiohttp_client: Any, channel: WebChatChannel) -> Any:
    app = web.Application()
    channel.setup_routes(app)
    return await aiohttp_client(app)


# ------------------------------------------------------------------ helpers


class Chat:
    """Drives the chat socket the way the widget does (``chat`` fixture)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def connect(self, **kw: Any) -> aiohttp.ClientWebSocketResponse:
        ws: aiohttp.ClientWebSocketResponse = await self.client.ws_connect("/chat/ws", **kw)
        return ws

    async def greet(
        self, token: str | None = None, **hello: Any
    ) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
        """Connect and say hello; returns the socket and the welcome frame."""
        ws = await self.connect()
        await ws.send_json({"type": "hello", "token": token, **hello})
        welcome = await self.recv(ws)
        assert welcome["type"] == "welcome", welcome
        return ws, welcome

    @staticmethod
    async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 2.0) -> dict[str, Any]:
        """The next frame as JSON (fails on a close or a binary frame)."""
        msg = await ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg}"
        frame: dict[str, Any] = json.loads(msg.data)
        return frame

    @staticmethod
    async def no_frame(ws: aiohttp.ClientWebSocketResponse, wait: float = 0.2) -> None:
        """Nothing arrives within ``wait`` seconds."""
        try:
            msg = await ws.receive(timeout=wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame: {msg}")

    async def say(
        self, ws: aiohttp.ClientWebSocketResponse, client_id: str, text: str, **extra: Any
    ) -> dict[str, Any]:
        """Send a message; returns the server's answer to it (ack or error)."""
        await ws.send_json({"type": "message", "id": client_id, "text": text, **extra})
        return await self.recv(ws)

    async def raw(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> dict[str, Any]:
        await ws.send_str(text)
        return await self.recv(ws)

    @staticmethod
    async def until(predicate: Any, timeout: float = 2.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not predicate():
            if loop.time() > end:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.01)


@pytest.fixture
def chat(client: Any) -> Chat:
    return Chat(client)
