"""The ticket lifecycle: which status may follow which, and the one function that changes
a ticket's status (validated, recorded with its before/after, SLA pauses opened and
closed, the conversation's state kept in step).

::

    new ──► open ──► pending_customer ──► open ... ──► resolved ──► closed
     │        ▲  └─► pending_third_party ─┘                │
     │        └──────────── a customer reply reopens ◄─────┘

- ``new``: in a queue, nobody has it; ``open``: an operator has it.
- ``pending_customer`` / ``pending_third_party``: waiting; the SLA clocks stand still
  (a pause is recorded); a customer message ends ``pending_customer``.
- ``resolved``: the clocks stop; a customer reply within ``tickets.reopen_days`` reopens.
- ``closed``: final; a new message makes a new ticket.

Callers hold the conversation's lock (:func:`locked_ticket`).
"""

from __future__ import annotations

from gateway.db.tables import Conversation, Ticket
from gateway.errors import ConflictError
from gateway.flow.tx import Tx
from gateway.models import ConversationState
from gateway.models import TicketStatus as S
from gateway.tickets import history
from gateway.tickets.history import TicketChange

TRANSITIONS: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.NEW, S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY, S.RESOLVED, S.CLOSED}),
    S.PENDING_CUSTOMER: frozenset({S.NEW, S.OPEN, S.PENDING_THIRD_PARTY, S.RESOLVED, S.CLOSED}),
    S.PENDING_THIRD_PARTY: frozenset({S.NEW, S.OPEN, S.PENDING_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.NEW, S.CLOSED}),  # reopen (to its operator, or the queue)
    S.CLOSED: frozenset(),
}
PAUSING = frozenset({S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY, S.RESOLVED, S.CLOSED})
ACTIVE = frozenset({S.NEW, S.OPEN, S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY})
DONE = frozenset({S.RESOLVED, S.CLOSED})

LABELS = {
    S.NEW: "new",
    S.OPEN: "open",
    S.PENDING_CUSTOMER: "waiting for the customer",
    S.PENDING_THIRD_PARTY: "waiting for a third party",
    S.RESOLVED: "resolved",
    S.CLOSED: "closed",
}


def allowed(frm: S, to: S) -> bool:
    return to in TRANSITIONS[frm]


def check(frm: S, to: S) -> None:
    if frm == to:
        raise ConflictError(f"the ticket is already {LABELS[to]}")
    if not allowed(frm, to):
        raise ConflictError(f"a ticket cannot go from {LABELS[frm]} to {LABELS[to]}")


async def locked_ticket(tx: Tx, ticket_id: int) -> tuple[Ticket, Conversation]:
    """The ticket and its conversation, under the conversation's lock, read afresh."""
    ticket = await tx.ticket(ticket_id)
    conv = await tx.lock_conversation(ticket.conversation_id)
    await tx.session.refresh(ticket)
    return ticket, conv


async def is_latest(tx: Tx, ticket: Ticket) -> bool:
    """Whether ``ticket`` is its conversation's newest (the one its state follows)."""
    from sqlalchemy import func, select

    newest = await tx.session.scalar(
        select(func.max(Ticket.id)).where(Ticket.conversation_id == ticket.conversation_id)
    )
    return newest == ticket.id


async def sync_conversation(tx: Tx, conv: Conversation, ticket: Ticket) -> None:
    """The conversation's state follows its newest ticket: waiting for an operator,
    with one (the bot silent), or resolved.  A conversation handed back to the bot
    stays with the bot."""
    if not await is_latest(tx, ticket):
        return
    status = S(ticket.status)
    if status in DONE:
        if conv.state != ConversationState.BOT.value:
            tx.set_state(conv, ConversationState.RESOLVED)
    elif ticket.assignee_id is None:
        tx.set_state(conv, ConversationState.PENDING)
    else:
        tx.set_state(conv, ConversationState.OPERATOR, assignee=ticket.assignee_id)


async def transition(
    tx: Tx,
    ticket: Ticket,
    conv: Conversation,
    to: S,
    *,
    actor_id: int | None,
    actor_name: str = "",
    reason: str = "",
    announce: bool = True,
) -> TicketChange:
    """Move ``ticket`` to ``to``: validated, recorded, pauses kept, conversation synced.
    The SLA deadlines are refreshed by the caller (:func:`gateway.tickets.sla_clock.refresh`)."""
    frm = S(ticket.status)
    check(frm, to)
    now = tx.now()
    before = {"status": frm.value, "assignee_id": ticket.assignee_id}
    if frm in PAUSING and to not in PAUSING:
        await history.close_pause(tx, ticket)
    elif frm in PAUSING and to in PAUSING:
        await history.close_pause(tx, ticket)
        await history.open_pause(tx, ticket, to.value)
    elif to in PAUSING:
        await history.open_pause(tx, ticket, to.value)
    if to is S.NEW:
        ticket.assignee_id = None
    if to is S.RESOLVED:
        ticket.resolved_at = now
    elif to is S.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif frm in DONE:  # reopened
        ticket.resolved_at = None
    ticket.status = to.value
    ticket.updated_at = now
    await sync_conversation(tx, conv, ticket)
    after = {"status": to.value, "assignee_id": ticket.assignee_id}
    change = await history.record(tx, ticket, "status", before, after, actor_id=actor_id, reason=reason)
    if announce:
        who = actor_name or "The desk"
        why = f" ({reason})" if reason else ""
        verb = "reopened" if frm in DONE and to in ACTIVE else f"set to {LABELS[to]}"
        await tx.add_event(conv, f"{who}: ticket {ticket.number} {verb}{why}.")
    return change
