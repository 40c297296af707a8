"""The SLA settings over the desk's API on the real store: any operator reads the
policies in force; a supervisor (here an admin) sets a customer's tier, normalised,
an operator may not; an unknown customer is a 404."""

from __future__ import annotations

from typing import Any

from gateway.db.tables import Conversation
from gateway.db.tables_tickets import CustomerTier
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.desk_client import desk_app, login, people

__all__ = ["desk", "people"]


async def test_policies_for_operators_tiers_for_supervisors(
    desk: Desk, people: dict[str, UserView], aiohttp_client: Any
) -> None:
    app = desk_app(desk)
    olga = await login(aiohttp_client, app, "olga")
    sue = await login(aiohttp_client, app, "sue")
    policies = await olga.get("/api/desk/sla/policies")
    assert [p["name"] for p in policies["policies"]] == ["complaints", "standard"]

    ticket = await desk.handoff(user="zoe")
    async with desk.store.read() as tx:
        conversation = await tx.session.get(Conversation, ticket.conversation_id)
        assert conversation is not None
        customer_id = conversation.customer_id
    path = f"/api/desk/customers/{customer_id}/tier"
    await olga.send("PUT", path, {"tier": "gold"}, status=403)
    assert await sue.send("PUT", path, {"tier": " Gold "}) == {"customer_id": customer_id, "tier": "gold"}
    async with desk.store.read() as tx:
        row = await tx.session.get(CustomerTier, customer_id)
        assert row is not None and row.tier == "gold"
    assert (await sue.send("PUT", path, {"tier": 1}, status=400))["error"] == "invalid_tier"
    await sue.send("PUT", "/api/desk/customers/999999/tier", {"tier": "gold"}, status=404)
