"""The desk's actions on one ticket: status, priority (urgency x impact, or set
outright with a reason), category, a customer's tier, and the full picture of a ticket
(fields, SLA clocks, history, pauses).

Each action runs in its own transaction under the conversation's lock, returns the
recorded :class:`~gateway.tickets.history.TicketChange` (before/after: what an audit
log stores) and publishes ``ticket.updated``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.db.tables import Customer, Ticket, User
from gateway.db.tables_tickets import Appointment, CustomerTier
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import TicketStatus
from gateway.tickets import history, lifecycle, priority, sla_clock
from gateway.tickets.history import TicketChange
from gateway.views import UserView

MAX_REASON = 500
MAX_CATEGORY = 64


def name_of(user: UserView) -> str:
    return user.display_name or user.name


def clean_reason(reason: str, *, required: bool = False) -> str:
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise InvalidInputError("give a reason")
    if len(reason) > MAX_REASON:
        raise InvalidInputError(f"the reason is longer than {MAX_REASON} characters")
    return reason


def parse_status(value: str) -> TicketStatus:
    try:
        return TicketStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in TicketStatus)
        raise InvalidInputError(f"status must be one of {allowed}") from None


class TicketDesk:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def set_status(self, ticket_id: int, status: str, user: UserView, reason: str = "") -> TicketChange:
        to = parse_status(status)
        reason = clean_reason(reason)
        async with self.store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            await _ensure_initialised(tx, ticket)
            if to is TicketStatus.OPEN and ticket.assignee_id is None:
                ticket.assignee_id = user.id  # opening a ticket takes it
            change = await lifecycle.transition(
                tx, ticket, conv, to, actor_id=user.id, actor_name=name_of(user), reason=reason
            )
            await sla_clock.refresh(tx, ticket)
            await tx.emit_ticket("ticket.updated", ticket)
            return change

    async def set_priority(
        self,
        ticket_id: int,
        user: UserView,
        *,
        urgency: str | None = None,
        impact: str | None = None,
        value: str | None = None,
        reason: str = "",
    ) -> TicketChange:
        """From urgency and impact through the matrix, or ``value`` (P1..P4) outright,
        which needs a reason.  The SLA deadlines follow at once, from the creation."""
        reason = clean_reason(reason, required=value is not None)
        try:
            if urgency is not None:
                priority.check_level(urgency, "urgency")
            if impact is not None:
                priority.check_level(impact, "impact")
            if value is not None:
                priority.check_priority(value)
        except priority.PriorityError as exc:
            raise InvalidInputError(str(exc)) from None
        if urgency is None and impact is None and value is None:
            raise InvalidInputError("give urgency and/or impact, or a priority")
        async with self.store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            await _ensure_initialised(tx, ticket)
            before = {"priority": ticket.priority, "urgency": ticket.urgency, "impact": ticket.impact}
            ticket.urgency = urgency or ticket.urgency
            ticket.impact = impact or ticket.impact
            matrix = sla_clock.get_policies(tx.settings.tickets).matrix
            ticket.priority = value or priority.from_matrix(matrix, ticket.urgency, ticket.impact)
            after = {"priority": ticket.priority, "urgency": ticket.urgency, "impact": ticket.impact}
            if after == before:
                raise ConflictError(f"ticket {ticket.number} already has these values")
            ticket.updated_at = tx.now()
            change = await history.record(
                tx, ticket, "priority", before, after, actor_id=user.id, reason=reason
            )
            why = f" ({reason})" if reason else ""
            line = f"{name_of(user)}: priority {before['priority']} → {ticket.priority}{why}."
            await tx.add_event(conv, line)
            await sla_clock.refresh(tx, ticket)
            await tx.emit_ticket("ticket.updated", ticket)
            return change

    async def set_category(self, ticket_id: int, user: UserView, category: str) -> TicketChange:
        category = " ".join((category or "").split()).lower()
        if len(category) > MAX_CATEGORY:
            raise InvalidInputError(f"a category has at most {MAX_CATEGORY} characters")
        async with self.store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            await _ensure_initialised(tx, ticket)
            before = {"category": ticket.category}
            if ticket.category == category:
                raise ConflictError(f"ticket {ticket.number} is already in this category")
            ticket.category = category
            ticket.updated_at = tx.now()
            change = await history.record(
                tx, ticket, "category", before, {"category": category}, actor_id=user.id
            )
            await tx.add_event(conv, f"{name_of(user)}: category {category or '(none)'}.")
            await sla_clock.refresh(tx, ticket)  # complaints may have their own SLA
            await tx.emit_ticket("ticket.updated", ticket)
            return change

    async def set_customer_tier(self, customer_id: int, tier: str) -> None:
        tier = (tier or "").strip().lower()
        if len(tier) > 32:
            raise InvalidInputError("a tier has at most 32 characters")
        async with self.store.tx() as tx:
            if await tx.session.get(Customer, customer_id) is None:
                raise NotFoundError(f"no customer {customer_id}")
            row = await tx.session.get(CustomerTier, customer_id)
            if not tier:
                if row is not None:
                    await tx.session.delete(row)
            elif row is None:
                tx.session.add(CustomerTier(customer_id=customer_id, tier=tier))
            else:
                row.tier = tier

    async def detail(self, ticket_id: int) -> dict[str, Any]:
        """Everything about one ticket: fields, live SLA clocks, history, pauses,
        appointments."""
        async with self.store.read() as tx:
            ticket = await tx.ticket(ticket_id)
            view = (await tx.ticket_view(ticket)).to_dict()
            policies = sla_clock.get_policies(tx.settings.tickets)
            status = await sla_clock.status(tx, ticket, policies)
            rows = (await tx.session.execute(select(User))).scalars()
            users = {u.id: u.display_name or u.name for u in rows}
            events = [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind,
                    "actor": users.get(e.actor_id or 0),
                    "actor_id": e.actor_id,
                    "reason": e.reason,
                    "before": e.before,
                    "after": e.after,
                }
                for e in await history.events(tx.session, ticket.id)
            ]
            pauses = [
                {
                    "reason": p.reason,
                    "started_at": p.started_at.isoformat(),
                    "ended_at": p.ended_at.isoformat() if p.ended_at else None,
                }
                for p in await history.pause_rows(tx.session, ticket.id)
            ]
            stmt = select(Appointment).where(Appointment.ticket_id == ticket.id).order_by(Appointment.due_at)
            from gateway.tickets.appointments import appointment_dict

            appointments = [appointment_dict(a) for a in (await tx.session.execute(stmt)).scalars()]
            return {
                "ticket": {**view, **desk_fields(ticket)},
                "sla": status.to_dict(),
                "history": events,
                "pauses": pauses,
                "appointments": appointments,
                "transitions": sorted(s.value for s in lifecycle.TRANSITIONS[TicketStatus(ticket.status)]),
            }


def desk_fields(ticket: Ticket) -> dict[str, Any]:
    """The desk's columns of a ticket, beside ``TicketView.to_dict()``."""
    return {
        "urgency": ticket.urgency,
        "impact": ticket.impact,
        "category": ticket.category,
        "escalated_at": ticket.escalated_at.isoformat() if ticket.escalated_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        **sla_clock.ticket_sla_fields(ticket),
    }


async def _ensure_initialised(tx: Tx, ticket: Ticket) -> None:
    if ticket.sla_policy is None:
        from gateway.tickets.hooks import on_ticket_created

        await on_ticket_created(tx, ticket)
