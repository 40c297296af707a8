"""The desk's ticket API on the real store: views and search, a ticket's detail,
status, priority, assignment to a colleague, transfer, escalation; clear errors, and
the console's security in front of every route.  (Appointments, queues and presence,
canned responses, SLA settings: the test_desk_*_api.py beside this one.)"""

from __future__ import annotations

from typing import Any

from gateway.tickets.sweeper import sweep_once
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.desk_client import Client, desk_app, login, people

# The fixtures (desk: shared with tests/gateway/tickets); desk_app, login and Client
# are imported from here by older tests.
__all__ = ["Client", "desk", "desk_app", "login", "people"]


async def test_an_operators_day_through_the_api(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
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

    moved = await olga.send(
        "POST", f"/api/desk/tickets/{ticket.id}/transfer", {"queue": "L1", "reason": "back to first level"}
    )
    assert moved["ticket"]["queue"] == "L1" and moved["ticket"]["assignee_id"] is None
    mine = await olga.send("POST", f"/api/desk/tickets/{ticket.id}/assign", {"user_id": "me"})
    assert mine["ticket"]["assignee_id"] == people["olga"].id
    back = await olga.send("POST", f"/api/desk/tickets/{ticket.id}/assign", {"user_id": None})
    assert back["ticket"]["assignee_id"] is None


async def test_clear_errors_and_the_consoles_security(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    ticket = await desk.handoff()
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
    await olga.get("/api/desk/tickets?limit=many", status=400)
    # A field of the wrong type is a 400 that names it.
    t = f"/api/desk/tickets/{ticket.id}"
    assert (await olga.send("POST", t + "/status", {"status": 3}, status=400))["error"] == "invalid_status"
    assert (await olga.send("POST", t + "/escalate", {"reason": 5}, status=400))["error"] == "invalid_reason"
    wrong_user = {"queue": "L2", "user_id": "paul", "reason": "x"}
    assert (await olga.send("POST", t + "/transfer", wrong_user, status=400))["error"] == "invalid_user_id"
    assert (await olga.send("POST", t + "/assign", {"user_id": True}, status=400))[
        "error"
    ] == "invalid_user_id"
    not_json = await olga.client.post(t + "/escalate", data="reason=x", headers=olga.headers)
    assert not_json.status == 400 and (await not_json.json())["error"] == "invalid_json"
    # Anonymous and CSRF-less requests are refused by the console's security.
    anonymous = await aiohttp_client(app)
    assert (await anonymous.get("/api/desk/tickets")).status == 401
    no_csrf = await olga.client.post(f"/api/desk/tickets/{ticket.id}/escalate", json={"reason": "x"})
    assert no_csrf.status == 403
