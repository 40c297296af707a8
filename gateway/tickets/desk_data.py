"""The contact log's, tags' and incidents' share of a customer's data
(:mod:`gateway.customers.parts`).

Erase keeps what the figures need (that a contact took place, its channel, direction,
duration and outcome; the tags; which tickets an incident had) and removes what is
personal: the notes of the contacts, and an incident's title taken from one of the
customer's ticket subjects.  The status messages themselves are the core's messages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables import Ticket
from gateway.db.tables_desk import Incident, IncidentTicket, TicketContact

ERASED_TITLE = "(title erased)"


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class DeskPart(CustomerDataPart):
    name = "desk_contacts_tags_incidents"
    tables = frozenset({"ticket_contacts", "ticket_tags", "incident_tickets"})

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        tickets = list(scope.ticket_ids)
        notes = _count(await session.execute(
            update(TicketContact).where(TicketContact.ticket_id.in_(tickets)).values(note="")))
        subjects = [s for s in (await session.execute(
            select(Ticket.subject).where(Ticket.id.in_(tickets)))).scalars() if s]
        titles = 0
        if subjects:  # an erased ticket's subject is "" already: nothing to match on a second erase
            of_customer = select(IncidentTicket.incident_id).where(IncidentTicket.ticket_id.in_(tickets))
            titles = _count(await session.execute(
                update(Incident)
                .where(Incident.id.in_(of_customer), Incident.title.in_(subjects))
                .values(title=ERASED_TITLE)))
        return {"ticket_contacts": notes, "incidents": titles}


PART = DeskPart()
