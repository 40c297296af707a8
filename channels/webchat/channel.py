"""The web-chat channel: visitors talk JSON over a WebSocket (see ``PROTOCOL.md``).

The channel keeps, for each visitor with an open socket, the set of their
connections (a visitor may have several tabs) and the id of their conversation,
learned from ``accept`` results, history and outbound messages.  Nothing else is
kept in memory: what a visitor missed while offline is in their history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

import channels.webchat.pages as pages  # the module, not a name read from the package
from channels.webchat.connection import Connection
from channels.webchat.protocol import Limits, dumps, message_frame, typing_frame
from channels.webchat.token import TokenSigner
from gateway.flow.channel_context import ChannelContext
from gateway.models import Delivery, DeliveryStatus, Outbound
from gateway.protocols import AcceptFn, Event

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def outbound_public(outbound: Outbound, created_at: str) -> dict[str, Any]:
    """The same shape as ``MessageView.to_public()``, built from an Outbound."""
    return {
        "id": outbound.message_id,
        "author": outbound.author.value,
        "author_name": outbound.author_name,
        "text": outbound.text,
        "quick_replies": [{"id": q.id, "label": q.label} for q in outbound.quick_replies],
        "created_at": created_at,
    }


class WebChatChannel:
    """The ``webchat`` channel; also serves the widget and the demo page."""

    name = "webchat"

    def __init__(
        self,
        ctx: ChannelContext,
        *,
        message_rate: tuple[int, float] = (20, 10.0),
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.ctx = ctx
        conf = ctx.settings.webchat
        self.limits = Limits(conf.max_frame_bytes, conf.max_message_chars)
        self.signer = TokenSigner(ctx.secret_key, ctx.clock, timedelta(days=conf.token_ttl_days))
        self.message_rate = message_rate  # (messages, per seconds) per connection
        self.heartbeat = heartbeat
        self.accept_fn: AcceptFn | None = None
        self._running = False
        self._connections: set[Connection] = set()  # every open socket, greeted or not
        self._visitors: dict[str, set[Connection]] = {}  # greeted sockets by visitor id
        self._conversation_of: dict[str, int] = {}
        self._visitor_of: dict[int, str] = {}
        self._relay: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- Channel
    async def start(self, accept: AcceptFn) -> None:
        self.accept_fn = accept
        self._running = True
        if self._relay is None:
            self._relay = asyncio.create_task(self._relay_typing(), name="webchat-typing")
            await asyncio.sleep(0)  # let it subscribe before anyone publishes

    async def stop(self) -> None:
        self._running = False
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
            self._relay = None
        await self.close_all()

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY (1001): the widget reconnects later."""
        sockets = [c.ws for c in self._connections if not c.ws.closed]
        await asyncio.gather(
            *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
            return_exceptions=True,
        )

    async def send(self, outbound: Outbound) -> Delivery:
        if outbound.channel != self.name:
            return Delivery(DeliveryStatus.FAILED, f"not a web-chat message: {outbound.channel}")
        connections = list(self._visitors.get(outbound.thread_key, ()))
        if not connections:
            return Delivery(DeliveryStatus.STORED, "visitor offline: shown in history on return")
        self.learn_conversation(outbound.thread_key, outbound.conversation_id)
        created = outbound.created_at or self.ctx.clock.now()
        text = dumps(message_frame(outbound_public(outbound, created.isoformat())))
        results = await asyncio.gather(*(c.push(text) for c in connections))
        sent = sum(results)
        if sent:
            return Delivery(DeliveryStatus.SENT, f"pushed to {sent} open chat window(s)")
        return Delivery(DeliveryStatus.STORED, "visitor's sockets closed: shown in history")

    # ----------------------------------------------------------------- routes
    def setup_routes(self, app: web.Application) -> None:
        """``GET /chat/ws``, ``/widget.js``, ``/widget.css`` and the ``/`` demo page."""
        app.router.add_get("/chat/ws", self.handle_ws)
        pages.add_routes(app)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_shutdown(self, _app: web.Application) -> None:
        await self.close_all()

    def origin_allowed(self, request: web.Request) -> bool:
        allowed = {_origin(o) or o.strip() for o in self.ctx.settings.webchat.allowed_origins}
        if not allowed or "*" in allowed:
            return True
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: the Origin check guards browsers only
        origin = origin.strip().lower()
        own = {_origin(self.ctx.settings.base_url), f"{request.scheme}://{request.host}".lower()}
        return origin in allowed or origin in own

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        if not self._running:
            raise web.HTTPServiceUnavailable(text="the web chat is not running")
        if not self.origin_allowed(request):
            raise web.HTTPForbidden(text="this origin may not open the web chat")
        ws = web.WebSocketResponse(
            heartbeat=self.heartbeat,
            # aiohttp closes with 1009 above this; between max_frame_bytes and this,
            # the visitor gets a readable ``too_large`` error and stays connected.
            max_msg_size=2 * self.limits.max_frame_bytes,
        )
        await ws.prepare(request)
        connection = Connection(self, request, ws)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
        return ws

    # ------------------------------------------- bookkeeping for connections
    def register(self, connection: Connection) -> None:
        assert connection.visitor_id is not None
        self._visitors.setdefault(connection.visitor_id, set()).add(connection)

    def unregister(self, connection: Connection) -> None:
        vid = connection.visitor_id
        if vid is None or vid not in self._visitors:
            return
        self._visitors[vid].discard(connection)
        if not self._visitors[vid]:  # last tab closed: forget the visitor
            del self._visitors[vid]
            conversation_id = self._conversation_of.pop(vid, None)
            if conversation_id is not None:
                self._visitor_of.pop(conversation_id, None)

    def learn_conversation(self, visitor_id: str, conversation_id: int) -> None:
        if visitor_id not in self._visitors:
            return  # only connected visitors are tracked
        previous = self._conversation_of.get(visitor_id)
        if previous is not None and previous != conversation_id:
            self._visitor_of.pop(previous, None)
        self._conversation_of[visitor_id] = conversation_id
        self._visitor_of[conversation_id] = visitor_id

    def online(self, visitor_id: str) -> int:
        """How many greeted sockets the visitor has open."""
        return len(self._visitors.get(visitor_id, ()))

    async def broadcast(
        self, visitor_id: str, text: str, exclude: Connection | None = None
    ) -> int:
        targets = [c for c in self._visitors.get(visitor_id, ()) if c is not exclude]
        return sum(await asyncio.gather(*(c.push(text) for c in targets)))

    # ----------------------------------------------------------------- typing
    async def publish_typing(self, connection: Connection, on: bool) -> None:
        vid = connection.visitor_id
        data = {
            "channel": self.name,
            "thread_key": vid,
            "conversation_id": self._conversation_of.get(vid) if vid else None,
            "author": "customer",
            "on": on,
        }
        try:
            await self.ctx.bus.publish(Event("typing", data))
        except Exception:  # best effort, like the bus itself
            log.exception("webchat: cannot publish typing")

    async def _relay_typing(self) -> None:
        """Forward operators' typing events to the visitor's open sockets."""
        while True:
            subscription = self.ctx.bus.subscribe("typing")
            try:
                async for event in subscription:
                    try:
                        await self._forward_typing(event)
                    except Exception:
                        log.exception("webchat: cannot relay %s", event.topic)
                return  # the bus ended the subscription (shutting down)
            except Exception:
                log.exception("webchat: typing subscription failed; resubscribing")
                await asyncio.sleep(1.0)
            finally:  # unregister from the bus, also when cancelled by stop()
                aclose = getattr(subscription, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()

    async def _forward_typing(self, event: Event) -> None:
        data = event.data
        if data.get("author") != "operator" or not isinstance(data.get("on"), bool):
            return
        conversation_id = data.get("conversation_id")
        visitor_id = self._visitor_of.get(conversation_id) if isinstance(
            conversation_id, int
        ) else None
        if visitor_id is None and data.get("channel") == self.name:
            thread_key = data.get("thread_key")
            visitor_id = thread_key if isinstance(thread_key, str) else None
        if visitor_id is not None:
            await self.broadcast(visitor_id, dumps(typing_frame(data["on"])))
