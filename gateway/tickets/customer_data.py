"""The ticket desk's share of a customer's data (:mod:`gateway.customers.parts`).

Erase keeps what the figures need — the history of status, queue and priority
changes, the SLA pauses and alerts — and removes what is personal: the free-text
reasons written on the customer's tickets, their appointments (notes, phone
numbers) and the customer's tier.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables_tickets import Appointment, CustomerTier, TicketEvent


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class TicketsPart(CustomerDataPart):
    name = "tickets"
    tables = frozenset({"ticket_events", "ticket_pauses", "sla_alerts", "appointments", "customer_tiers"})

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        tickets = list(scope.ticket_ids)
        return {
            "ticket_events": _count(await session.execute(
                update(TicketEvent).where(TicketEvent.ticket_id.in_(tickets)).values(reason=""))),
            "appointments": _count(await session.execute(
                delete(Appointment).where(Appointment.ticket_id.in_(tickets)))),
            "customer_tiers": _count(await session.execute(
                delete(CustomerTier).where(CustomerTier.customer_id == scope.customer_id))),
        }


PART = TicketsPart()
