"""Numbers past what the database's integer columns hold are refused clearly, on
SQLite and PostgreSQL alike, instead of crashing the request (a 500): in a body or a
query a 400 naming the field, in the path a 404.  The other typed fields of
:mod:`gateway.web.request_fields` are checked through each API's own tests."""

from __future__ import annotations

from typing import Any

from gateway.views import UserView
from gateway.web import merge_api
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.desk_client import desk_app, login, people

__all__ = ["desk", "people"]

HUGE = 2**70


async def test_numbers_too_large_for_the_database_are_clear_errors(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    merge_api.setup(app, desk.store)
    sue = await login(aiohttp_client, app, "sue")
    ticket = await desk.handoff(user="zoe")
    t = f"/api/desk/tickets/{ticket.id}"

    presence = await sue.send("POST", "/api/desk/presence", {"user_id": -HUGE, "present": True}, status=400)
    assert presence["error"] == "invalid_user_id"
    capacity = await sue.send("POST", "/api/desk/presence", {"capacity": HUGE}, status=400)
    assert capacity["error"] == "invalid_capacity"
    assign = await sue.send("POST", t + "/assign", {"user_id": HUGE}, status=400)
    assert assign["error"] == "invalid_user_id"
    members = await sue.send("PUT", "/api/desk/queues/L1/members", {"user_ids": [HUGE]}, status=400)
    assert members["error"] == "invalid_user_ids"
    into = await sue.send("POST", t + "/merge", {"into": HUGE}, status=400)
    assert into["error"] == "invalid_into"
    for query in (f"assignee={HUGE}", f"offset={HUGE}"):
        assert (await sue.get(f"/api/desk/tickets?{query}", status=400))["error"] == "invalid_number"
    assert (await sue.get(f"/api/desk/tickets?limit={HUGE}", status=400))["error"] == "invalid_input"
    assert (await sue.get(f"/api/desk/tickets/{HUGE}", status=404))["error"] == "not_found"

    # Nothing was changed by the refused requests; in range, the same routes work.
    assert (await sue.get(t))["ticket"]["assignee_id"] is None
    assert (await sue.send("POST", "/api/desk/presence", {"capacity": 7}))["presence"]["capacity"] == 7
