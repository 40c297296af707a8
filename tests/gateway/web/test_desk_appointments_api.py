"""Callbacks and follow-ups over the desk's API on the real store: an operator
schedules a callback on a ticket, finds it on the ticket and among their own (not
among a colleague's), marks it done and cancels another; a time without its offset or a wrong-typed field
is a 400 that names it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.desk_client import desk_app, login, people

__all__ = ["desk", "people"]


async def test_schedule_list_and_finish_a_callback(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    paul = await login(aiohttp_client, app, "paul")
    ticket = await desk.handoff(user="zoe")
    path = f"/api/desk/tickets/{ticket.id}/appointments"

    due = (desk.clock.now() + timedelta(hours=1)).isoformat()
    made = await olga.send(
        "POST",
        path,
        {"due_at": due, "kind": "callback", "note": "call back", "tell_customer": False},
        status=201,
    )
    item = made["appointment"]
    assert item["status"] == "scheduled" and not item["customer_told"]
    assert [a["id"] for a in (await olga.get(path))["appointments"]] == [item["id"]]
    assert [a["id"] for a in (await olga.get("/api/desk/appointments?mine=1"))["appointments"]] == [
        item["id"]
    ]
    assert (await paul.get("/api/desk/appointments?mine=1"))["appointments"] == []

    done = await olga.send("POST", f"/api/desk/appointments/{item['id']}/done", {"outcome": "reached her"})
    assert done["appointment"]["status"] == "done"
    assert [a["id"] for a in (await olga.get("/api/desk/appointments?status=done"))["appointments"]] == [
        item["id"]
    ]
    assert (await olga.get("/api/desk/appointments?status=scheduled"))["appointments"] == []

    other = (await olga.send("POST", path, {"due_at": due, "kind": "follow_up"}, status=201))["appointment"]
    cancelled = await olga.send("POST", f"/api/desk/appointments/{other['id']}/cancel", {})
    assert cancelled["appointment"]["status"] == "cancelled"

    no_time = await olga.send("POST", path, {"due_at": "tomorrow"}, status=400)
    assert no_time["error"] == "invalid_due_at"
    told = await olga.send("POST", path, {"due_at": due, "tell_customer": "yes"}, status=400)
    assert told["error"] == "invalid_tell_customer"
    owner = await olga.send("POST", path, {"due_at": due, "owner_id": "paul"}, status=400)
    assert owner["error"] == "invalid_owner_id"
    made_ids = sorted(a["id"] for a in (await olga.get(path))["appointments"])
    assert made_ids == sorted([item["id"], other["id"]])  # the refused ones were not made
