"""Queues and presence over the desk's API on the real store: a supervisor (here an
admin) sets a queue's members, an operator may not; operators set their own presence
but not their capacity nor a colleague's presence; wrong-typed fields are 400s."""

from __future__ import annotations

from typing import Any

from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.desk_client import desk_app, login, people

__all__ = ["desk", "people"]


async def test_members_and_presence_by_role(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    sue = await login(aiohttp_client, app, "sue")
    olga_id, paul_id = people["olga"].id, people["paul"].id

    # Supervisor-only: an operator is refused, the change is not made.
    await olga.send("PUT", "/api/desk/queues/L1/members", {"user_ids": [olga_id]}, status=403)
    await sue.send("PUT", "/api/desk/queues/L1/members", {"user_ids": [olga_id, paul_id]})
    queues = {q["name"]: q for q in (await olga.get("/api/desk/queues"))["queues"]}
    assert sorted(queues["L1"]["members"]) == sorted([olga_id, paul_id])
    bad_ids = await sue.send("PUT", "/api/desk/queues/L1/members", {"user_ids": [True]}, status=400)
    assert bad_ids["error"] == "invalid_user_ids"

    # Operators set their own presence, not their load nor a colleague's presence.
    await olga.send("POST", "/api/desk/presence", {"capacity": 50}, status=403)
    await olga.send("POST", "/api/desk/presence", {"user_id": paul_id, "present": True}, status=403)
    me = await olga.send("POST", "/api/desk/presence", {"present": True})
    assert me["presence"]["present"] is True and me["presence"]["capacity"] == 5
    assert (await olga.get("/api/desk/presence"))["presence"]["present"] is True
    assert (await olga.send("POST", "/api/desk/presence", {"present": "yes"}, status=400))["error"] == (
        "invalid_present"
    )
    raised = await sue.send("POST", "/api/desk/presence", {"user_id": olga_id, "capacity": 8})
    assert raised["presence"]["capacity"] == 8
