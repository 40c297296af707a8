"""The contact log of a ticket (issue 9): every contact with the customer and its
outcome (resolved, escalated, callback, information given).

A phone call is logged by hand by the operator who made or took it: direction, how
long it lasted, a note, the outcome.  A contact on the ticket's own channel (chat,
email, Slack) is already in the conversation as messages: what the log adds is its
outcome.  Each entry is, in one transaction under the conversation's lock:

- a ``ticket_contacts`` row;
- an event line in the conversation, so the ticket's timeline shows it between the
  messages ("Olga: phone call, incoming, 4 min 30 s: information given. Note");
- a recorded ``contact`` change of the ticket (history, hence the audit listeners).

The outcome records what happened; the matching action (escalating, scheduling the
callback, resolving) is the desk's own tool, so nothing is done twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gateway.db.tables import User
from gateway.db.tables_desk import TicketContact
from gateway.errors import InvalidInputError
from gateway.flow.store import SqlStore
from gateway.tickets import history, lifecycle
from gateway.tickets.desk import name_of
from gateway.views import UserView

OUTCOMES = ("resolved", "escalated", "callback", "information")
OUTCOME_WORDS = {
    "resolved": "resolved",
    "escalated": "escalated",
    "callback": "callback agreed",
    "information": "information given",
}
DIRECTIONS = ("in", "out")
MAX_NOTE = 2000
MAX_DURATION = 24 * 3600
PHONE = "phone"
CONVERSATION = "conversation"  # the ticket's own channel


@dataclass(frozen=True, slots=True)
class ContactInput:
    outcome: str
    channel: str = PHONE  # phone, or "conversation": the ticket's own channel
    direction: str = "in"
    duration_seconds: int | None = None
    note: str = ""
    at: datetime | None = None  # when it happened; default now (not in the future)

    def checked(self) -> ContactInput:
        if self.outcome not in OUTCOMES:
            raise InvalidInputError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if self.channel not in (PHONE, CONVERSATION):
            raise InvalidInputError('channel is "phone" or "conversation" (the ticket\'s own channel)')
        if self.direction not in DIRECTIONS:
            raise InvalidInputError('direction is "in" (the customer called) or "out" (we called)')
        duration = self.duration_seconds
        if duration is not None and not 0 <= duration <= MAX_DURATION:
            raise InvalidInputError(f"duration_seconds is 0..{MAX_DURATION}")
        note = (self.note or "").strip()
        if len(note) > MAX_NOTE:
            raise InvalidInputError(f"the note is longer than {MAX_NOTE} characters")
        if self.at is not None and self.at.tzinfo is None:
            raise InvalidInputError("the time of the contact needs its offset")
        return ContactInput(self.outcome, self.channel, self.direction, duration, note, self.at)


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def contact_line(who: str, row: TicketContact) -> str:
    """The timeline's event line for a contact."""
    if row.channel == PHONE:
        what = "phone call, " + ("incoming" if row.direction == "in" else "outgoing")
    else:
        what = f"contact on {row.channel}"
    length = duration_text(row.duration_seconds)
    if length:
        what += f", {length}"
    note = f" {row.note}" if row.note else ""
    return f"{who}: {what}: {OUTCOME_WORDS[row.outcome]}.{note}"


def contact_dict(row: TicketContact, actor: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket_id": row.ticket_id,
        "channel": row.channel,
        "direction": row.direction,
        "duration_seconds": row.duration_seconds,
        "outcome": row.outcome,
        "note": row.note,
        "actor_id": row.actor_id,
        "actor": actor,
        "at": row.at.isoformat(),
        "created_at": row.created_at.isoformat(),
    }


class ContactLog:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def log(self, ticket_id: int, user: UserView, contact: ContactInput) -> dict[str, Any]:
        contact = contact.checked()
        async with self.store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            now = tx.now()
            at = contact.at.astimezone(UTC) if contact.at is not None else now
            if at > now:
                raise InvalidInputError("a contact cannot be logged in the future")
            channel = PHONE if contact.channel == PHONE else conv.channel
            row = TicketContact(
                ticket_id=ticket.id, channel=channel, direction=contact.direction,
                duration_seconds=contact.duration_seconds, outcome=contact.outcome, note=contact.note,
                actor_id=user.id, at=at, created_at=now,
            )
            tx.session.add(row)
            await tx.session.flush()
            after = {
                "contact_id": row.id, "channel": channel, "direction": row.direction,
                "duration_seconds": row.duration_seconds, "outcome": row.outcome,
            }
            await history.record(tx, ticket, "contact", {}, after, actor_id=user.id, reason=contact.note)
            await tx.add_event(conv, contact_line(name_of(user), row))
            ticket.updated_at = now
            await tx.emit_ticket("ticket.updated", ticket)
            return contact_dict(row, name_of(user))

    async def listing(self, ticket_id: int) -> list[dict[str, Any]]:
        async with self.store.read() as tx:
            await tx.ticket(ticket_id)
            stmt = (
                select(TicketContact, User)
                .outerjoin(User, User.id == TicketContact.actor_id)
                .where(TicketContact.ticket_id == ticket_id)
                .order_by(TicketContact.at, TicketContact.id)
            )
            rows = (await tx.session.execute(stmt)).all()
            return [contact_dict(c, (u.display_name or u.name) if u else None) for c, u in rows]
