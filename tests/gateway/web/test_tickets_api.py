"""The desk's REST API on the real store: views and search, status, priority,
assignment to a colleague, transfer, escalation, callbacks, canned responses, presence;
roles enforced (operator vs supervisor), clear errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.auth import create_user
from gateway.tickets.desk_services import DeskServices
from gateway.tickets.sweeper import sweep_once
from gateway.views import UserView
from gateway.web import keys, tickets_api
from gateway.web.console import make_jinja_env, setup_console
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.conftest import PASSWORD, csrf_in

__all__ = ["desk"]  # the fixture, shared with tests/gateway/tickets


def desk_app(desk: Desk) -> web.Application:
    app = web.Application()
    app[keys.SETTINGS] = desk.settings
    app[keys.CLOCK] = desk.clock
    app[keys.BUS] = desk.bus
    app[keys.SESSIONS] = desk.store.sessions
    app[keys.OPERATORS] = desk.operators
    app[keys.JINJA] = make_jinja_env()
    app[keys.SECRET] = b"another-test-secret"
    app[keys.DESK] = DeskServices.on(desk.store)
    setup_console(app)
    tickets_api.setup(app)
    return app


class Client:
    def __init__(self, client: TestClient[Any, Any], csrf: str) -> None:
        self.client, self.headers = client, {"X-CSRF-Token": csrf}

    async def get(self, path: str, status: int = 200) -> Any:
        response = await self.client.get(path)
        assert response.status == status, await response.text()
        return await response.json()

    async def send(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.request(method, path, json=body or {}, headers=self.headers)
        assert response.status == status, await response.text()
        return await response.json()


async def login(aiohttp_client: Any, app: web.Application, name: str) -> Client:
    client = await aiohttp_client(app)
    form = await client.get("/console/login")
    data = {"csrf_token": csrf_in(await form.text(), "csrf_token"), "username": name, "password": PASSWORD}
    assert (await client.post("/console/login", data=data, allow_redirects=False)).status == 302
    return Client(client, csrf_in(await (await client.get("/console")).text(), "csrf-token"))


@pytest.fixture
async def people(desk: Desk) -> dict[str, UserView]:
    return {
        "olga": await create_user(desk.store.sessions, "olga", PASSWORD, "operator", "Olga"),
        "paul": await create_user(desk.store.sessions, "paul", PASSWORD, "operator", "Paul"),
        "sue": await create_user(desk.store.sessions, "sue", PASSWORD, "admin", "Sue"),
    }


async def test_an_operators_day_through_the_api(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    sue = await login(aiohttp_client, app, "sue")
    ticket = await desk.handoff(user="zoe", text="my invoice is wrong, a person please")
    await sweep_once(desk.store)  # until the core calls hooks.on_ticket_created, the sweeper does

    listed = await olga.get("/api/desk/tickets?view=unassigned&sort=sla_due")
    row = listed["tickets"][0]
    assert row["number"] == ticket.number and row["sla_due"] and row["priority"] == "P3"
    assert (await olga.get("/api/desk/tickets?view=open&q=invoice"))["tickets"][0]["id"] == ticket.id
    assert (await olga.get("/api/desk/tickets?view=open&q=nothing-like-this"))["tickets"] == []

    detail = await olga.get(f"/api/desk/tickets/{ticket.id}")
    assert detail["sla"]["clocks"]["first_response"]["state"] == "running"
    assert "pending_customer" in detail["transitions"]

    paul_id = people["paul"].id
    done = await olga.send(
        "POST", f"/api/desk/tickets/{ticket.id}/assign", {"user_id": paul_id, "reason": "billing"}
    )
    assert done["change"]["after"]["assignee_id"] == paul_id and done["ticket"]["assignee_name"] == "Paul"
    assert done["ticket"]["status"] == "open"

    raised = await olga.send(
        "POST", f"/api/desk/tickets/{ticket.id}/priority", {"urgency": "high", "impact": "high"}
    )
    assert raised["ticket"]["priority"] == "P1"
    assert raised["sla"]["clocks"]["first_response"]["minutes"] == 15

    canned = await sue.send(
        "POST",
        "/api/desk/canned",
        {"title": "Hi", "body": "Hello {customer_name} ({ticket_number})"},
        status=201,
    )
    text = (
        await olga.send("POST", f"/api/desk/canned/{canned['canned']['id']}/render", {"ticket_id": ticket.id})
    )["text"]
    assert text == f"Hello Zoe ({ticket.number})"

    due = (desk.clock.now() + timedelta(hours=1)).isoformat()
    made = await olga.send(
        "POST",
        f"/api/desk/tickets/{ticket.id}/appointments",
        {"due_at": due, "kind": "callback", "note": "call back", "tell_customer": False},
        status=201,
    )
    assert made["appointment"]["status"] == "scheduled" and not made["appointment"]["customer_told"]
    mine = await olga.get("/api/desk/appointments?mine=1")
    assert [a["id"] for a in mine["appointments"]] == [made["appointment"]["id"]]

    pending = await olga.send(
        "POST",
        f"/api/desk/tickets/{ticket.id}/status",
        {"status": "pending_customer", "reason": "waiting for the invoice"},
    )
    assert pending["sla"]["paused"] is True
    assert (await olga.get("/api/desk/tickets?view=pending"))["tickets"][0]["sla_paused"] is True

    escalated = await olga.send(
        "POST", f"/api/desk/tickets/{ticket.id}/escalate", {"reason": "refund over limit"}
    )
    assert escalated["ticket"]["queue"] == "L2" and escalated["ticket"]["escalated_at"]
    kinds = [e["kind"] for e in escalated["history"]]
    assert kinds[0] == "created" and "assign" in kinds and "escalate" in kinds


async def test_roles_and_errors(desk: Desk, people: dict[str, UserView], aiohttp_client: Any) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    sue = await login(aiohttp_client, app, "sue")
    ticket = await desk.handoff()
    # Supervisor-only routes refuse an operator.
    forbidden = await olga.send("POST", "/api/desk/canned", {"title": "x", "body": "y"}, status=403)
    assert forbidden["error"] == "forbidden"
    await olga.send("PUT", "/api/desk/queues/L1/members", {"user_ids": [people["olga"].id]}, status=403)
    await olga.send("POST", "/api/desk/presence", {"capacity": 50}, status=403)
    await sue.send("PUT", "/api/desk/queues/L1/members", {"user_ids": [people["olga"].id]})
    # Operators set their own presence.
    me = await olga.send("POST", "/api/desk/presence", {"present": True})
    assert me["presence"]["present"] is True and me["presence"]["capacity"] == 5
    # Clear errors.
    bad = await olga.send("POST", f"/api/desk/tickets/{ticket.id}/status", {"status": "archived"}, status=400)
    assert "status must be one of" in bad["message"]
    await olga.send("POST", f"/api/desk/tickets/{ticket.id}/transfer", {"queue": "L2"}, status=400)
    await olga.send("POST", "/api/desk/tickets/999/escalate", {"reason": "x"}, status=404)
    await olga.send("POST", f"/api/desk/tickets/{ticket.id}/status", {"status": "closed"})
    conflict = await olga.send(
        "POST", f"/api/desk/tickets/{ticket.id}/status", {"status": "open"}, status=409
    )
    assert "cannot go from closed to open" in conflict["message"]
    await olga.get("/api/desk/tickets?view=everything", status=400)
    # Anonymous and CSRF-less requests are refused by the console's security.
    anonymous = await aiohttp_client(app)
    assert (await anonymous.get("/api/desk/tickets")).status == 401
    no_csrf = await olga.client.post(f"/api/desk/tickets/{ticket.id}/escalate", json={"reason": "x"})
    assert no_csrf.status == 403
    policies = await olga.get("/api/desk/sla/policies")
    assert [p["name"] for p in policies["policies"]] == ["complaints", "standard"]
