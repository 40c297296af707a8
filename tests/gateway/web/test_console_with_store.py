"""The console against the real core (SQL store, router, SqlOperatorService, bus):
a customer's handoff shows up live, and the operator's actions reach the customer."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.auth import create_user
from gateway.clock import SystemClock
from gateway.views import UserView
from gateway.web import keys
from gateway.web.console import make_jinja_env, setup_console
from tests.gateway.conftest import Core
from tests.gateway.web.conftest import PASSWORD, csrf_in


def console_app(core: Core) -> web.Application:
    app = web.Application()
    app[keys.SETTINGS] = core.settings
    app[keys.CLOCK] = SystemClock()
    app[keys.BUS] = core.bus
    app[keys.SESSIONS] = core.store.sessions
    app[keys.OPERATORS] = core.operators
    app[keys.JINJA] = make_jinja_env()
    app[keys.SECRET] = b"another-test-secret"
    setup_console(app)
    return app


async def login(client: Any, name: str) -> str:
    form = await client.get("/console/login")
    data = {"csrf_token": csrf_in(await form.text(), "csrf_token"), "username": name, "password": PASSWORD}
    assert (await client.post("/console/login", data=data, allow_redirects=False)).status == 302
    return csrf_in(await (await client.get("/console")).text(), "csrf-token")


async def test_handoff_to_resolution_through_the_console(
    core: Core, operator: UserView, aiohttp_client: Any
) -> None:
    app = console_app(core)
    olga = await aiohttp_client(app)
    csrf = await login(olga, "olga")
    ws = await olga.ws_connect("/console/ws", headers={"Origin": str(olga.make_url("/")).rstrip("/")})
    assert (await ws.receive_json(timeout=2))["type"] == "hello"

    await core.channel.receive("I want to talk to a person", user="bob", message_id="bob-1")
    await core.drain()
    seen = []
    while "ticket.created" not in seen:
        frame = await ws.receive_json(timeout=5)
        seen.append(frame["type"])
    ticket = frame["data"]["ticket"]
    assert ticket["status"] == "new" and ticket["customer_name"] == "Bob"
    assert "message.created" in seen  # the customer's message, live

    page = await (await olga.get("/console")).text()
    assert f'data-number="{ticket["number"]}"' in page
    conversation = (await (await olga.get(f"/api/conversations/{ticket['conversation_id']}")).json())
    assert conversation["messages"][0]["text"] == "I want to talk to a person"

    headers = {"X-CSRF-Token": csrf}
    taken = await olga.post(f"/api/tickets/{ticket['id']}/take", headers=headers)
    assert (await taken.json())["ticket"]["assignee_name"] == "Olga"

    # A colleague cannot take a ticket Olga holds: the core's conflict becomes 409.
    await create_user(core.store.sessions, "pat", PASSWORD, "operator", "Pat")
    pat = await aiohttp_client(app)
    pat_csrf = await login(pat, "pat")
    refused = await pat.post(f"/api/tickets/{ticket['id']}/take", headers={"X-CSRF-Token": pat_csrf})
    assert refused.status == 409
    assert "already taken" in (await refused.json())["message"]

    cid = ticket["conversation_id"]
    note = await olga.post(f"/api/conversations/{cid}/notes", json={"text": "VIP"}, headers=headers)
    assert note.status == 201
    reply = await olga.post(f"/api/conversations/{cid}/reply", json={"text": "Hi Bob!"}, headers=headers)
    assert reply.status == 201
    await core.drain()
    texts = [o.text for o in core.channel.sent]
    assert "Hi Bob!" in texts and "VIP" not in texts

    resolved = await olga.post(f"/api/tickets/{ticket['id']}/resolve", headers=headers)
    assert (await resolved.json())["ticket"]["status"] == "resolved"
    assert (await (await olga.get("/api/tickets")).json())["tickets"] == []
    await ws.close()


async def test_a_reply_that_could_not_be_delivered_is_shown_failed_with_its_reason(
    core: Core, operator: UserView, aiohttp_client: Any
) -> None:
    core.settings.jobs.max_attempts = 1
    core.channel.fail_next = 1
    app = console_app(core)
    olga = await aiohttp_client(app)
    await login(olga, "olga")
    ws = await olga.ws_connect("/console/ws", headers={"Origin": str(olga.make_url("/")).rstrip("/")})
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    accepted = await core.channel.receive("How do I reset my password?", user="bob", message_id="b-1")
    await core.drain()
    await core.drain()
    updates = []
    while "failed" not in updates:
        frame = await ws.receive_json(timeout=5)
        if frame["type"] == "message.updated":
            updates.append(frame["data"]["message"]["delivery"])
    assert updates == ["sending", "failed"]  # live, for an open console
    messages = await (await olga.get(f"/api/conversations/{accepted.conversation_id}")).json()
    [reply] = [m for m in messages["messages"] if m["direction"] == "out" and m["kind"] == "message"]
    assert reply["delivery"] == "failed"
    assert "fake transient failure" in reply["meta"]["delivery_detail"]
