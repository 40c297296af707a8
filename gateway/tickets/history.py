"""A ticket's recorded history: every change as a ``ticket_events`` row with its
before/after, and the SLA pauses.

**Audit hook.**  Every change the desk makes goes through :func:`record`, inside the
transaction of the change, and returns a :class:`TicketChange` (who, what, when,
before, after, why).  An audit log registers a listener with
:func:`add_change_listener`; listeners run in that same transaction, so the audit row
commits (or rolls back) with the change itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables import Ticket
from gateway.db.tables_tickets import TicketEvent, TicketPause
from gateway.flow.tx import Tx
from gateway.tickets.calendar import Pause


@dataclass(frozen=True, slots=True)
class TicketChange:
    ticket_id: int
    number: str
    kind: str  # created | status | priority | category | assign | transfer | escalate | sla_*
    at: datetime
    actor_id: int | None  # None: the system (sweeper, a customer's message)
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "number": self.number,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }


ChangeListener = Callable[[Tx, TicketChange], Awaitable[None]]
_listeners: list[ChangeListener] = []


def add_change_listener(listener: ChangeListener) -> None:
    """Call ``listener(tx, change)`` for every ticket change, in its transaction."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_change_listener(listener: ChangeListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def record(
    tx: Tx,
    ticket: Ticket,
    kind: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    actor_id: int | None,
    reason: str = "",
) -> TicketChange:
    """Store one change of ``ticket`` and tell the listeners (same transaction)."""
    before = {k: _jsonable(v) for k, v in before.items()}
    after = {k: _jsonable(v) for k, v in after.items()}
    now = tx.now()
    tx.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            kind=kind,
            actor_id=actor_id,
            reason=reason[:500],
            before=before,
            after=after,
        )
    )
    change = TicketChange(ticket.id, ticket.number or "", kind, now, actor_id, before, after, reason)
    for listener in list(_listeners):
        await listener(tx, change)
    return change


async def events(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    return list((await session.execute(stmt)).scalars())


# ------------------------------------------------------------------ pauses


async def pause_rows(session: AsyncSession, ticket_id: int) -> list[TicketPause]:
    stmt = select(TicketPause).where(TicketPause.ticket_id == ticket_id).order_by(TicketPause.started_at)
    return list((await session.execute(stmt)).scalars())


async def pauses(session: AsyncSession, ticket_id: int) -> tuple[Pause, ...]:
    return tuple((p.started_at, p.ended_at) for p in await pause_rows(session, ticket_id))


async def open_pause(tx: Tx, ticket: Ticket, reason: str) -> None:
    tx.session.add(TicketPause(ticket_id=ticket.id, reason=reason, started_at=tx.now()))


async def close_pause(tx: Tx, ticket: Ticket) -> TicketPause | None:
    """End the running pause, if any; returns it."""
    stmt = select(TicketPause).where(TicketPause.ticket_id == ticket.id, TicketPause.ended_at.is_(None))
    row = (await tx.session.execute(stmt)).scalars().first()
    if row is not None:
        row.ended_at = tx.now()
    return row


async def running_pause(session: AsyncSession, ticket_id: int) -> TicketPause | None:
    stmt = select(TicketPause).where(TicketPause.ticket_id == ticket_id, TicketPause.ended_at.is_(None))
    return (await session.execute(stmt)).scalars().first()
