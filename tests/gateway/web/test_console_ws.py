"""The console's live WebSocket: relays bus events to logged-in operators only."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from gateway.protocols import Event
from gateway.web import console_ws
from gateway.web.console_ws import close_sockets
from tests.gateway.web.conftest import Console, ticket_view


def origin(console: Console) -> dict[str, str]:
    return {"Origin": str(console.client.make_url("/")).rstrip("/")}


async def connect(console: Console) -> aiohttp.ClientWebSocketResponse:
    ws = await console.client.ws_connect("/console/ws", headers=origin(console))
    hello = await ws.receive_json(timeout=2)
    assert hello["type"] == "hello"
    return ws


async def next_frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    frame: dict[str, Any] = await ws.receive_json(timeout=2)
    return frame


async def test_anonymous_cannot_connect(console: Console) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await console.client.ws_connect("/console/ws", headers=origin(console))
    assert info.value.status == 401
    assert console.bus.subscriber_count == 0


@pytest.mark.parametrize("bad_origin", ["http://evil.example", "null", ""])
async def test_foreign_origin_is_refused(console: Console, bad_origin: str) -> None:
    await console.login()
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await console.client.ws_connect("/console/ws", headers={"Origin": bad_origin})
    assert info.value.status == 403


async def test_relays_ticket_message_and_typing_events(console: Console) -> None:
    await console.login()
    ws = await connect(console)
    ticket = ticket_view(7, subject="New one").to_dict()
    await console.bus.publish(Event("ticket.created", {"ticket": ticket}))
    assert await next_frame(ws) == {"type": "ticket.created", "data": {"ticket": ticket}}

    await console.bus.publish(Event("job.done", {"id": 1}))  # not for consoles
    typing = {"conversation_id": 17, "author": "customer", "on": True}
    await console.bus.publish(Event("typing", typing))
    assert await next_frame(ws) == {"type": "typing", "data": typing}

    message = {"id": 5, "text": "hi", "html": "<p>hi</p><script>x()</script>", "kind": "message"}
    await console.bus.publish(Event("message.created", {"conversation_id": 17, "message": message}))
    frame = await next_frame(ws)
    assert frame["type"] == "message.created"
    assert frame["data"]["message"]["text"] == "hi"
    assert frame["data"]["message"]["html"] == "<p>hi</p>"
    await ws.close()


async def test_every_console_gets_the_event(console: Console) -> None:
    await console.login()
    first, second = await connect(console), await connect(console)
    await console.bus.publish(Event("ticket.updated", {"ticket": ticket_view(1).to_dict()}))
    for ws in (first, second):
        assert (await next_frame(ws))["type"] == "ticket.updated"
        await ws.close()


async def test_closing_the_socket_unsubscribes(console: Console) -> None:
    await console.login()
    ws = await connect(console)
    assert console.bus.subscriber_count == 1
    await ws.close()
    for _ in range(100):
        if console.bus.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    assert console.bus.subscriber_count == 0


async def test_shutdown_closes_sockets_with_going_away(console: Console) -> None:
    await console.login()
    ws = await connect(console)
    await close_sockets(console.app)
    msg = await ws.receive(timeout=2)
    assert msg.type == WSMsgType.CLOSE
    assert ws.close_code == WSCloseCode.GOING_AWAY


async def test_bus_closing_makes_consoles_reconnect(console: Console) -> None:
    await console.login()
    ws = await connect(console)
    await console.bus.close()
    msg = await ws.receive(timeout=2)
    assert msg.type == WSMsgType.CLOSE
    assert ws.close_code == WSCloseCode.GOING_AWAY


async def test_socket_dies_with_its_session(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_ws, "SESSION_RECHECK_SECONDS", 0.05)
    csrf = await console.login()
    ws = await connect(console)
    await console.client.post("/console/logout", headers={"X-CSRF-Token": csrf})
    msg = await ws.receive(timeout=2)
    assert msg.type == WSMsgType.CLOSE
    assert ws.close_code == WSCloseCode.POLICY_VIOLATION


async def test_an_unserialisable_event_does_not_kill_the_feed(console: Console) -> None:
    await console.login()
    ws = await connect(console)
    await console.bus.publish(Event("ticket.updated", {"ticket": object()}))
    await console.bus.publish(Event("typing", {"conversation_id": 1, "author": "customer", "on": False}))
    assert (await next_frame(ws))["type"] == "typing"
    await ws.close()
