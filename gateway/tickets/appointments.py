"""Callbacks and follow-ups agreed on a ticket.

Scheduled by an operator (for themselves or a colleague); the customer is told the time
on their own channel when ``tickets.tell_customer_appointments`` is on; at the due time
the sweeper publishes ``appointment.due`` on the bus (the console shows a reminder to
its owner) and marks it reminded; one not done ``tickets.appointment_grace_minutes``
after its time is *missed* and listed as such.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.db.tables import Ticket, User
from gateway.db.tables_tickets import Appointment
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import AuthorKind
from gateway.tickets import history, lifecycle
from gateway.views import UserView

KINDS = ("callback", "follow_up")
SCHEDULED, REMINDED, DONE, MISSED, CANCELLED = "scheduled", "reminded", "done", "missed", "cancelled"
WAITING = (SCHEDULED, REMINDED)
TOLD = {
    "en": "We will call you back on {when} ({zone} time) about ticket {number}.",
    "fr": "Nous vous rappellerons le {when} (heure de {zone}) au sujet du ticket {number}.",
}
FOLLOW_UP_TOLD = {
    "en": "We will get back to you on {when} ({zone} time) about ticket {number}.",
    "fr": "Nous reviendrons vers vous le {when} (heure de {zone}) au sujet du ticket {number}.",
}


def appointment_dict(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.id,
        "ticket_id": a.ticket_id,
        "kind": a.kind,
        "due_at": a.due_at.isoformat(),
        "note": a.note,
        "phone": a.phone,
        "status": a.status,
        "owner_id": a.owner_id,
        "created_by": a.created_by,
        "customer_told": a.customer_told,
        "reminded_at": a.reminded_at.isoformat() if a.reminded_at else None,
        "done_at": a.done_at.isoformat() if a.done_at else None,
        "outcome": a.outcome,
    }


def told_text(kind: str, lang: str, due: datetime, zone: str, number: str) -> str:
    local = due.astimezone(ZoneInfo(zone))
    table = TOLD if kind == "callback" else FOLLOW_UP_TOLD
    template = table.get(lang, table["en"])
    when = local.strftime("%d/%m/%Y %H:%M") if lang == "fr" else local.strftime("%Y-%m-%d %H:%M")
    return template.format(when=when, zone=zone, number=number)


class AppointmentService:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def schedule(
        self,
        ticket_id: int,
        user: UserView,
        due_at: datetime,
        *,
        kind: str = "callback",
        note: str = "",
        phone: str = "",
        owner_id: int | None = None,
        tell_customer: bool | None = None,
        timezone: str = "UTC",
    ) -> dict[str, Any]:
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        if due_at.tzinfo is None:
            raise InvalidInputError("the time needs a time zone (e.g. 2026-01-05T14:00:00+01:00)")
        if len(note) > 2000 or len(phone) > 64:
            raise InvalidInputError("the note (2000) or phone (64 characters) is too long")
        try:
            ZoneInfo(timezone)
        except (ValueError, KeyError) as exc:
            raise InvalidInputError(f"unknown time zone {timezone!r}") from exc
        async with self.store.tx(fast=True) as tx:
            if due_at <= tx.now():
                raise InvalidInputError("the appointment must be in the future")
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            if owner_id is not None:
                owner = await tx.session.get(User, owner_id)
                if owner is None or not owner.active:
                    raise NotFoundError(f"no active user {owner_id}")
            if ticket.status in (lifecycle.S.CLOSED.value,):
                raise ConflictError(f"ticket {ticket.number} is closed")
            appointment = Appointment(
                ticket_id=ticket.id,
                kind=kind,
                due_at=due_at,
                note=note.strip(),
                phone=phone.strip(),
                status=SCHEDULED,
                owner_id=owner_id or user.id,
                created_by=user.id,
                created_at=tx.now(),
            )
            tx.session.add(appointment)
            await tx.session.flush()
            tell = tx.settings.tickets.tell_customer_appointments if tell_customer is None else tell_customer
            if tell:
                text = told_text(kind, conv.lang or "en", due_at, timezone, ticket.number or "")
                await tx.add_message(
                    conv,
                    direction="out",
                    author=AuthorKind.OPERATOR,
                    text=text,
                    author_id=user.id,
                    author_name=user.display_name or user.name,
                )
                appointment.customer_told = True
            when = due_at.isoformat()
            await tx.add_event(
                conv,
                f"{user.display_name or user.name} scheduled a {kind.replace('_', '-')} "
                f"for {when}" + (f": {note.strip()}" if note.strip() else "."),
            )
            await history.record(
                tx,
                ticket,
                "appointment",
                {},
                {"appointment_id": appointment.id, "kind": kind, "due_at": when},
                actor_id=user.id,
                reason=note[:200],
            )
            return appointment_dict(appointment)

    async def finish(
        self, appointment_id: int, user: UserView, *, status: str = DONE, outcome: str = ""
    ) -> dict[str, Any]:
        if status not in (DONE, CANCELLED):
            raise InvalidInputError("an appointment ends done or cancelled")
        async with self.store.tx() as tx:
            appointment = await tx.session.get(Appointment, appointment_id)
            if appointment is None:
                raise NotFoundError(f"no appointment {appointment_id}")
            _ticket, conv = await lifecycle.locked_ticket(tx, appointment.ticket_id)
            await tx.session.refresh(appointment)
            if appointment.status in (DONE, CANCELLED):
                raise ConflictError(f"the appointment is already {appointment.status}")
            appointment.status = status
            appointment.done_at = tx.now()
            appointment.outcome = outcome.strip()[:500]
            await tx.add_event(
                conv,
                f"{user.display_name or user.name}: {appointment.kind.replace('_', '-')} "
                f"{status}" + (f" ({appointment.outcome})" if appointment.outcome else "."),
            )
            return appointment_dict(appointment)

    async def listing(
        self, *, owner_id: int | None = None, status: str | None = None, ticket_id: int | None = None
    ) -> list[dict[str, Any]]:
        async with self.store.read() as tx:
            stmt = select(Appointment, Ticket.number, Ticket.subject).join(
                Ticket, Ticket.id == Appointment.ticket_id
            )
            if owner_id is not None:
                stmt = stmt.where(Appointment.owner_id == owner_id)
            if status is not None:
                stmt = stmt.where(Appointment.status == status)
            if ticket_id is not None:
                stmt = stmt.where(Appointment.ticket_id == ticket_id)
            rows = (await tx.session.execute(stmt.order_by(Appointment.due_at, Appointment.id))).all()
            return [{**appointment_dict(a), "ticket_number": n, "subject": s} for a, n, s in rows]


async def sweep_appointments(tx: Tx, now: datetime) -> list[dict[str, Any]]:
    """Remind the due ones (``appointment.due`` on the bus, once) and mark the overdue
    ones missed; returns what changed."""
    grace = timedelta(minutes=tx.settings.tickets.appointment_grace_minutes)
    out = []
    stmt = (
        select(Appointment, Ticket.number)
        .join(Ticket, Ticket.id == Appointment.ticket_id)
        .where(Appointment.status.in_(WAITING), Appointment.due_at <= now)
        .order_by(Appointment.due_at)
        .with_for_update(of=Appointment)
    )
    for appointment, number in (await tx.session.execute(stmt)).all():
        if appointment.status == SCHEDULED:
            appointment.status = REMINDED
            appointment.reminded_at = now
            tx.emit("appointment.due", {**appointment_dict(appointment), "ticket_number": number})
            out.append(appointment_dict(appointment))
        if appointment.status == REMINDED and now >= appointment.due_at + grace:
            appointment.status = MISSED
            tx.emit("appointment.missed", {**appointment_dict(appointment), "ticket_number": number})
            out.append(appointment_dict(appointment))
    return out
