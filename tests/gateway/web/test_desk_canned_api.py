"""Canned responses over the desk's API on the real store: a supervisor (here an
admin) writes and changes them, an operator may not; an operator searches them and
gets one filled for a ticket; a missing ticket id is a 400."""

from __future__ import annotations

from typing import Any

from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.desk_client import desk_app, login, people

__all__ = ["desk", "people"]


async def test_canned_responses_written_by_supervisors_filled_for_a_ticket(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    sue = await login(aiohttp_client, app, "sue")
    ticket = await desk.handoff(user="zoe")

    forbidden = await olga.send("POST", "/api/desk/canned", {"title": "x", "body": "y"}, status=403)
    assert forbidden["error"] == "forbidden"
    made = await sue.send(
        "POST",
        "/api/desk/canned",
        {"title": "Hi", "body": "Hello {customer_name} ({ticket_number})"},
        status=201,
    )
    canned_id = made["canned"]["id"]
    rendered = await olga.send("POST", f"/api/desk/canned/{canned_id}/render", {"ticket_id": ticket.id})
    assert rendered["text"] == f"Hello Zoe ({ticket.number})"
    missing = await olga.send("POST", f"/api/desk/canned/{canned_id}/render", {}, status=400)
    assert missing["error"] == "invalid_ticket_id"

    await olga.send("PUT", f"/api/desk/canned/{canned_id}", {"title": "Hey", "body": "Hey"}, status=403)
    await sue.send(
        "PUT", f"/api/desk/canned/{canned_id}", {"title": "Welcome", "body": "Welcome {customer_name}"}
    )
    assert [c["title"] for c in (await olga.get("/api/desk/canned?q=welcome"))["canned"]] == ["Welcome"]
    bad = await sue.send(
        "PUT", f"/api/desk/canned/{canned_id}", {"title": ["Hey"], "body": "Hey"}, status=400
    )
    assert bad["error"] == "invalid_title"

    await olga.send("DELETE", f"/api/desk/canned/{canned_id}", status=403)
    await sue.send("DELETE", f"/api/desk/canned/{canned_id}")
    assert (await olga.get("/api/desk/canned"))["canned"] == []
