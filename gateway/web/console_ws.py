"""The console's live WebSocket ``/console/ws``.

Relays bus events (``ticket.*``, ``message.*``, ``typing``, ``incident.*``, ...) to every logged-in
console as JSON frames ``{"type": topic, "data": ...}``.  The session is checked
on connect (by the security middleware) and again every minute, so a socket
dies with its session.  On shutdown every socket is closed with GOING_AWAY and
the browser reconnects to the next server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from gateway.auth import load_session
from gateway.protocols import Event
from gateway.web.keys import BUS, CLOCK, SESSIONS, SETTINGS
from gateway.web.security import SESSION_COOKIE, USER, json_dumps, json_error, sanitize_html

log = logging.getLogger(__name__)

TOPICS = ("ticket.", "message.", "typing", "appointment.", "sla.", "incident.")
SESSION_RECHECK_SECONDS = 60.0
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("console_sockets")


def origin_allowed(request: web.Request) -> bool:
    """Browsers always send Origin on a WebSocket handshake: it must be this site."""
    origin = request.headers.get(hdrs.ORIGIN, "")
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return False
    if parts.netloc.lower() == request.host.lower():
        return True
    public = urlsplit(request.app[SETTINGS].base_url)
    return (parts.scheme, parts.netloc.lower()) == (public.scheme, public.netloc.lower())


def frame(topic: str, data: dict[str, Any]) -> str:
    if topic in ("message.created", "message.updated") and isinstance(data.get("message"), dict):
        message = data["message"]
        if message.get("html"):
            data = {**data, "message": {**message, "html": sanitize_html(str(message["html"]))}}
    return json_dumps({"type": topic, "data": data})


async def _relay(events: AsyncIterator[Event], ws: web.WebSocketResponse) -> None:
    try:
        async for event in events:
            if ws.closed:
                return
            try:
                text = frame(event.topic, event.data)
            except (TypeError, ValueError):
                log.exception("console: cannot serialise event %s; skipped", event.topic)
                continue
            await ws.send_str(text)
    except ConnectionResetError:
        return
    # The bus ended (shutting down): tell the browser to reconnect.
    await ws.close(code=WSCloseCode.GOING_AWAY, message=b"event bus closed")


async def _watch_session(request: web.Request, ws: web.WebSocketResponse) -> None:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    while not ws.closed:
        await asyncio.sleep(SESSION_RECHECK_SECONDS)
        try:
            alive = await load_session(request.app[SESSIONS], cookie, request.app[CLOCK])
        except Exception:  # the database is briefly unavailable: check again later
            log.warning("console: cannot re-check a session", exc_info=True)
            continue
        if alive is None:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"session ended")
            return


async def console_socket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        return json_error(403, "origin", "WebSocket connections must come from this site.")
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
    await ws.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    # Subscribe before "hello": a console that loads its state after "hello" misses nothing.
    events = request.app[BUS].subscribe(*TOPICS)
    tasks = [
        asyncio.create_task(_relay(events, ws)),
        asyncio.create_task(_watch_session(request, ws)),
    ]
    try:
        await ws.send_str(json_dumps({"type": "hello", "data": {"user_id": request[USER].id}}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str(json_dumps({"type": "pong", "data": {}}))
            elif msg.type == WSMsgType.ERROR:
                log.debug("console socket error: %s", ws.exception())
    finally:
        sockets.discard(ws)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await task
        aclose = getattr(events, "aclose", None)  # unsubscribe, even if the relay never ran
        if aclose is not None:
            await aclose()
    return ws


async def close_sockets(app: web.Application) -> None:
    """``on_shutdown``: close every console socket with GOING_AWAY."""
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def setup(app: web.Application) -> None:
    app[SOCKETS] = set()
    app.router.add_get("/console/ws", console_socket, name="console_ws")
    app.on_shutdown.append(close_sockets)
