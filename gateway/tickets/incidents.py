"""Incidents (issue 9): supervisors link similar tickets to an incident (raised by
:mod:`gateway.tickets.incident_scan`, or opened by hand), answer every linked ticket
with one status message, and close it.

**One status message, once per customer.**  :meth:`IncidentService.announce` sends
the text to each linked ticket's customer on their own channel through the normal
reply path (an operator's visible message: the durable outbox sends it, the SLA's
first / next response clocks stop).  Each ticket is done in its own transaction
under its conversation's lock, and the ``incident_tickets`` row records the message
in that same transaction: a ticket already answered is skipped, so announcing again
(a retry after a crash, a double click, a ticket linked later) sends only to those
who have not had it.  A closed ticket is skipped (reported as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from gateway.db.tables import Conversation, IdentityRow, Ticket, User
from gateway.db.tables_desk import Incident, IncidentTicket
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import AuthorKind
from gateway.models import TicketStatus as S
from gateway.tickets import history, hooks, lifecycle
from gateway.tickets.desk import name_of
from gateway.views import UserView

MAX_TITLE = 300
MAX_MESSAGE = 10_000
STATUSES = ("open", "closed", "all")


def incident_dict(incident: Incident, counts: dict[str, int] | None = None) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "detected": incident.detected,
        "created_at": iso(incident.created_at),
        "closed_at": iso(incident.closed_at),
        "status_message": incident.status_message,
        "announced_at": iso(incident.announced_at),
        "linked": (counts or {}).get("linked", 0),
        "suggested": (counts or {}).get("suggested", 0),
    }


def _ids(values: Sequence[Any]) -> list[int]:
    if not isinstance(values, list | tuple) or not values:
        raise InvalidInputError('"ticket_ids" is a non-empty list of ticket ids')
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
        raise InvalidInputError('"ticket_ids" holds ticket ids (integers)')
    if len(values) > 500:
        raise InvalidInputError("at most 500 tickets at once")
    return sorted(set(values))


class IncidentService:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ reads

    async def listing(self, status: str = "open") -> list[dict[str, Any]]:
        if status not in STATUSES:
            raise InvalidInputError(f"status is one of {', '.join(STATUSES)}")
        async with self.store.read() as tx:
            stmt = select(Incident).order_by(Incident.id.desc()).limit(200)
            if status != "all":
                stmt = stmt.where(Incident.status == status)
            incidents = list((await tx.session.execute(stmt)).scalars())
            counts = await _counts(tx, [i.id for i in incidents])
            return [incident_dict(i, counts.get(i.id)) for i in incidents]

    async def detail(self, incident_id: int) -> dict[str, Any]:
        async with self.store.read() as tx:
            incident = await _incident(tx, incident_id)
            stmt = (
                select(IncidentTicket, Ticket, Conversation.channel, IdentityRow.display_name, User)
                .join(Ticket, Ticket.id == IncidentTicket.ticket_id)
                .join(Conversation, Conversation.id == Ticket.conversation_id)
                .join(IdentityRow, IdentityRow.id == Conversation.identity_id)
                .outerjoin(User, User.id == IncidentTicket.linked_by)
                .where(IncidentTicket.incident_id == incident.id)
                .order_by(Ticket.id)
            )
            tickets = [
                {
                    "ticket_id": t.id, "number": t.number, "subject": t.subject, "status": t.status,
                    "channel": channel, "customer_name": customer, "state": link.state,
                    "linked_by": (user.display_name or user.name) if user else None,
                    "announced_at": link.announced_at.isoformat() if link.announced_at else None,
                    "message_id": link.message_id,
                }
                for link, t, channel, customer, user in (await tx.session.execute(stmt)).all()
            ]
            counts = await _counts(tx, [incident.id])
            return {"incident": incident_dict(incident, counts.get(incident.id)), "tickets": tickets}

    # ------------------------------------------------------------------ changes

    async def create(self, title: str, user: UserView, ticket_ids: Sequence[int] = ()) -> dict[str, Any]:
        title = " ".join((title or "").split())
        if not title or len(title) > MAX_TITLE:
            raise InvalidInputError(f"an incident needs a title of 1..{MAX_TITLE} characters")
        async with self.store.tx() as tx:
            incident = Incident(title=title, status="open", detected=False, created_at=tx.now(),
                                status_message="")
            tx.session.add(incident)
            await tx.session.flush()
            tx.emit("incident.raised", {"incident_id": incident.id, "title": title, "status": "open",
                                        "tickets": 0, "new_tickets": [], "by": name_of(user),
                                        "for_roles": ["supervisor", "admin"]})
            incident_id = incident.id
        if ticket_ids:
            await self.link(incident_id, list(ticket_ids), user)
        return await self.detail(incident_id)

    async def link(self, incident_id: int, ticket_ids: Sequence[Any], user: UserView) -> dict[str, Any]:
        """Link tickets (suggested or not) to the open incident; each ticket's history
        and timeline say so."""
        ids = _ids(list(ticket_ids))
        for ticket_id in ids:
            async with self.store.tx() as tx:
                incident = await _incident(tx, incident_id, lock_open=True)
                ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
                row = await _row(tx, incident.id, ticket.id)
                if row is not None and row.state == "linked":
                    continue
                if row is None:
                    row = IncidentTicket(incident_id=incident.id, ticket_id=ticket.id, created_at=tx.now())
                    tx.session.add(row)
                row.state, row.linked_by = "linked", user.id
                await history.record(tx, ticket, "incident", {}, {"incident_id": incident.id,
                                     "incident": incident.title}, actor_id=user.id)
                line = f"{name_of(user)}: linked to incident #{incident.id} ({incident.title})."
                await tx.add_event(conv, line)
                await tx.emit_ticket("ticket.updated", ticket)
        await self._updated(incident_id)
        return await self.detail(incident_id)

    async def unlink(self, incident_id: int, ticket_ids: Sequence[Any], user: UserView) -> dict[str, Any]:
        ids = _ids(list(ticket_ids))
        async with self.store.tx() as tx:
            incident = await _incident(tx, incident_id, lock_open=True)
            for ticket_id in ids:
                row = await _row(tx, incident.id, ticket_id)
                if row is None:
                    continue
                if row.message_id is not None:
                    raise ConflictError("this customer already had the status message: it stays linked")
                await tx.session.delete(row)
        await self._updated(incident_id)
        return await self.detail(incident_id)

    async def announce(self, incident_id: int, text: str, user: UserView) -> dict[str, Any]:
        """Send ``text`` to every linked ticket's customer that has not had it."""
        text = (text or "").strip()
        if not text or len(text) > MAX_MESSAGE:
            raise InvalidInputError(f"the status message has 1..{MAX_MESSAGE} characters")
        async with self.store.tx() as tx:
            incident = await _incident(tx, incident_id, lock_open=True)
            if incident.status_message and incident.status_message != text:
                raise ConflictError("this incident's status message was already sent with other words; "
                                    "it goes out once per customer (open a new incident for an update)")
            stmt = select(IncidentTicket.ticket_id).where(
                IncidentTicket.incident_id == incident.id, IncidentTicket.state == "linked"
            ).order_by(IncidentTicket.ticket_id)
            linked = list((await tx.session.execute(stmt)).scalars())
            if not linked:
                raise ConflictError("no ticket is linked to this incident yet")
            incident.status_message = text
            incident.announced_at, incident.announced_by = tx.now(), user.id
        sent: list[str] = []
        already: list[str] = []
        skipped: list[str] = []
        for ticket_id in linked:
            outcome, number = await self._announce_one(incident_id, ticket_id, text, user)
            {"sent": sent, "already": already, "skipped": skipped}[outcome].append(number)
        await self._updated(incident_id)
        return {"sent": sent, "already": already, "skipped": skipped, **await self.detail(incident_id)}

    async def _announce_one(
        self, incident_id: int, ticket_id: int, text: str, user: UserView
    ) -> tuple[str, str]:
        async with self.store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            row = await _row(tx, incident_id, ticket.id)
            number = ticket.number or f"#{ticket.id}"
            if row is None or row.state != "linked":
                return "skipped", number
            await tx.session.refresh(row)  # read under the lock: another announce may have sent it
            if row.message_id is not None:
                return "already", number
            if ticket.status == S.CLOSED.value:
                return "skipped", number
            msg = await tx.add_message(
                conv, direction="out", author=AuthorKind.OPERATOR, text=text,
                author_id=user.id, author_name=name_of(user), meta={"incident_id": incident_id},
            )
            await hooks.on_human_reply(tx, ticket, msg)  # first / next response clocks
            row.message_id, row.announced_at = msg.id, tx.now()
            await history.record(tx, ticket, "incident_status", {}, {"incident_id": incident_id,
                                 "message_id": msg.id}, actor_id=user.id)
            ticket.updated_at = tx.now()
            await tx.emit_ticket("ticket.updated", ticket)
            return "sent", number

    async def close(self, incident_id: int, user: UserView) -> dict[str, Any]:
        async with self.store.tx() as tx:
            incident = await _incident(tx, incident_id, lock_open=True)
            incident.status, incident.closed_at, incident.closed_by = "closed", tx.now(), user.id
            tx.emit("incident.closed", {"incident_id": incident.id, "title": incident.title,
                                        "status": "closed", "by": name_of(user)})
        return await self.detail(incident_id)

    async def _updated(self, incident_id: int) -> None:
        async with self.store.tx() as tx:
            incident = await _incident(tx, incident_id)
            counts = (await _counts(tx, [incident.id])).get(incident.id)
            tx.emit("incident.updated", {**incident_dict(incident, counts), "incident_id": incident.id})


async def _incident(tx: Tx, incident_id: int, *, lock_open: bool = False) -> Incident:
    incident = await tx.session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(f"no incident {incident_id}")
    if lock_open and incident.status != "open":
        raise ConflictError(f"incident #{incident.id} is closed")
    return incident


async def _row(tx: Tx, incident_id: int, ticket_id: int) -> IncidentTicket | None:
    stmt = select(IncidentTicket).where(
        IncidentTicket.incident_id == incident_id, IncidentTicket.ticket_id == ticket_id
    )
    return (await tx.session.execute(stmt)).scalar_one_or_none()


async def _counts(tx: Tx, incident_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    if not incident_ids:
        return {}
    stmt = (
        select(IncidentTicket.incident_id, IncidentTicket.state, func.count(IncidentTicket.id))
        .where(IncidentTicket.incident_id.in_(list(incident_ids)))
        .group_by(IncidentTicket.incident_id, IncidentTicket.state)
    )
    found: dict[int, dict[str, int]] = {}
    for incident_id, state, n in (await tx.session.execute(stmt)).all():
        found.setdefault(int(incident_id), {})[str(state)] = int(n)
    return found
