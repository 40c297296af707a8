"""Queues (first level, second level, others) and their members; operators' presence
and capacity; assignment (to oneself, to a colleague, round-robin), transfer to a queue
or an operator with a reason, escalation to second level.

Round-robin gives a ticket to the present member of its queue who has waited longest
since their last round-robin ticket, among those below their capacity (open and pending
tickets they hold).  Presence and the last-assigned time are rows, so every process
sees the same; under PostgreSQL the chosen operator's row is locked while deciding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from gateway.db.tables import Ticket, User
from gateway.db.tables_tickets import OperatorPresence, Queue, QueueMember
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import TicketStatus as S
from gateway.tickets import history, lifecycle, sla_clock
from gateway.tickets.desk import _ensure_initialised, clean_reason, name_of
from gateway.tickets.history import TicketChange
from gateway.views import UserView

QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
HOLDING = tuple(s.value for s in (S.OPEN, S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY))


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    label: str
    level: int
    members: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "level": self.level, "members": list(self.members)}


async def _user(tx: Tx, user_id: int) -> User:
    user = await tx.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFoundError(f"no active user {user_id}")
    return user


async def queue_row(tx: Tx, name: str) -> Queue:
    row = (await tx.session.execute(select(Queue).where(Queue.name == name))).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no queue {name!r}")
    return row


async def holding(tx: Tx, user_id: int) -> int:
    """How many open or pending tickets ``user_id`` holds."""
    stmt = select(func.count(Ticket.id)).where(Ticket.assignee_id == user_id, Ticket.status.in_(HOLDING))
    return int(await tx.session.scalar(stmt) or 0)


class QueueService:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    # -------------------------------------------------------------- queues
    async def list_queues(self) -> list[QueueView]:
        async with self.store.read() as tx:
            queues = list(
                (await tx.session.execute(select(Queue).order_by(Queue.level.desc(), Queue.name))).scalars()
            )
            pairs = (await tx.session.execute(select(QueueMember.queue_id, QueueMember.user_id))).all()
            members: dict[int, list[int]] = {}
            for queue_id, user_id in pairs:
                members.setdefault(queue_id, []).append(user_id)
            queues.sort(key=lambda q: (q.level == 0, q.level, q.name))
            return [QueueView(q.name, q.label, q.level, tuple(sorted(members.get(q.id, [])))) for q in queues]

    async def save_queue(self, name: str, label: str = "", level: int = 0) -> QueueView:
        if not QUEUE_NAME.match(name or ""):
            raise InvalidInputError("a queue name is 1-32 letters, digits, '-' or '_'")
        if level not in (0, 1, 2):
            raise InvalidInputError("level is 1 (first), 2 (second) or 0 (other)")
        async with self.store.tx() as tx:
            row = (await tx.session.execute(select(Queue).where(Queue.name == name))).scalar_one_or_none()
            if row is None:
                row = Queue(name=name, label=label[:200], level=level, created_at=tx.now())
                tx.session.add(row)
            else:
                row.label, row.level = label[:200] or row.label, level
            await tx.session.flush()
            return QueueView(row.name, row.label, row.level, ())

    async def set_members(self, name: str, user_ids: list[int]) -> QueueView:
        async with self.store.tx() as tx:
            queue = await queue_row(tx, name)
            for user_id in user_ids:
                await _user(tx, user_id)
            current = list(
                (
                    await tx.session.execute(select(QueueMember).where(QueueMember.queue_id == queue.id))
                ).scalars()
            )
            for member in current:
                if member.user_id not in user_ids:
                    await tx.session.delete(member)
            have = {m.user_id for m in current}
            for user_id in dict.fromkeys(user_ids):
                if user_id not in have:
                    tx.session.add(QueueMember(queue_id=queue.id, user_id=user_id))
            return QueueView(queue.name, queue.label, queue.level, tuple(sorted(set(user_ids))))

    # ------------------------------------------------------------ presence
    async def presence(self, user_id: int) -> dict[str, Any]:
        async with self.store.read() as tx:
            row = await tx.session.get(OperatorPresence, user_id)
            default = tx.settings.tickets.default_capacity
            return {
                "user_id": user_id,
                "present": bool(row and row.present),
                "capacity": row.capacity if row and row.capacity is not None else default,
                "holding": await holding(tx, user_id),
            }

    async def set_presence(
        self, user_id: int, *, present: bool | None = None, capacity: int | None = None
    ) -> dict[str, Any]:
        if capacity is not None and not 0 <= capacity <= 1000:
            raise InvalidInputError("capacity must be between 0 and 1000")
        async with self.store.tx() as tx:
            await _user(tx, user_id)
            row = await tx.session.get(OperatorPresence, user_id)
            if row is None:
                row = OperatorPresence(user_id=user_id, present=False, updated_at=tx.now())
                tx.session.add(row)
            if present is not None:
                row.present = present
            if capacity is not None:
                row.capacity = capacity
            row.updated_at = tx.now()
        return await self.presence(user_id)

    # ---------------------------------------------------------- assignment
    async def assign(
        self, ticket_id: int, actor: UserView, to_user_id: int | None, reason: str = ""
    ) -> TicketChange:
        """Give the ticket to ``to_user_id`` (oneself or a colleague), or back to its
        queue (None)."""
        reason = clean_reason(reason)
        async with self.store.tx() as tx:
            ticket, _conv = await lifecycle.locked_ticket(tx, ticket_id)
            change = await assign_in(
                tx, ticket, to_user_id, actor_id=actor.id, actor_name=name_of(actor), reason=reason
            )
            await tx.emit_ticket("ticket.updated", ticket)
            return change

    async def transfer(
        self,
        ticket_id: int,
        actor: UserView,
        *,
        queue: str | None = None,
        to_user_id: int | None = None,
        reason: str,
    ) -> TicketChange:
        """To another queue (unassigned there) and/or an operator, with a reason."""
        reason = clean_reason(reason, required=True)
        if queue is None and to_user_id is None:
            raise InvalidInputError("transfer to a queue or an operator")
        async with self.store.tx() as tx:
            ticket, _conv = await lifecycle.locked_ticket(tx, ticket_id)
            change = await transfer_in(
                tx,
                ticket,
                queue=queue,
                to_user_id=to_user_id,
                actor_id=actor.id,
                actor_name=name_of(actor),
                reason=reason,
            )
            await tx.emit_ticket("ticket.updated", ticket)
            return change

    async def escalate(self, ticket_id: int, actor: UserView | None, reason: str) -> TicketChange:
        reason = clean_reason(reason, required=True)
        async with self.store.tx() as tx:
            ticket, _ = await lifecycle.locked_ticket(tx, ticket_id)
            change = await escalate_in(
                tx,
                ticket,
                actor_id=actor.id if actor else None,
                actor_name=name_of(actor) if actor else "",
                reason=reason,
            )
            await tx.emit_ticket("ticket.updated", ticket)
            return change

    async def round_robin(self, queue: str, limit: int = 50) -> list[TicketChange]:
        """Give the queue's unassigned new tickets (highest priority, earliest SLA due
        first) to present members, round-robin, within their capacity."""
        async with self.store.read() as tx:
            await queue_row(tx, queue)
            stmt = (
                select(Ticket.id)
                .where(Ticket.queue == queue, Ticket.status == S.NEW.value, Ticket.assignee_id.is_(None))
                .order_by(Ticket.priority, Ticket.sla_due.is_(None), Ticket.sla_due, Ticket.id)
                .limit(limit)
            )
            ids = list((await tx.session.execute(stmt)).scalars())
        changes = []
        for ticket_id in ids:
            async with self.store.tx() as tx:
                ticket, _ = await lifecycle.locked_ticket(tx, ticket_id)
                if ticket.status != S.NEW.value or ticket.assignee_id is not None:
                    continue
                user_id = await next_operator(tx, queue)
                if user_id is None:
                    break  # nobody present with room: the rest wait
                changes.append(
                    await assign_in(
                        tx, ticket, user_id, actor_id=None, actor_name="Round-robin", reason="round-robin"
                    )
                )
                await tx.emit_ticket("ticket.updated", ticket)
        return changes


async def next_operator(tx: Tx, queue: str) -> int | None:
    """The present member of ``queue`` below capacity who waited longest."""
    default = tx.settings.tickets.default_capacity
    stmt = (
        select(OperatorPresence)
        .join(QueueMember, QueueMember.user_id == OperatorPresence.user_id)
        .join(Queue, Queue.id == QueueMember.queue_id)
        .join(User, User.id == OperatorPresence.user_id)
        .where(Queue.name == queue, OperatorPresence.present.is_(True), User.active.is_(True))
        .order_by(
            OperatorPresence.last_assigned_at.is_(None).desc(),
            OperatorPresence.last_assigned_at,
            OperatorPresence.user_id,
        )
        .with_for_update(of=OperatorPresence)
    )
    for row in (await tx.session.execute(stmt)).scalars():
        capacity = row.capacity if row.capacity is not None else default
        if await holding(tx, row.user_id) < capacity:
            row.last_assigned_at = tx.now()
            return row.user_id
    return None


async def _set_assignee(
    tx: Tx, ticket: Ticket, to_user_id: int | None, *, actor_id: int | None, reason: str
) -> None:
    """The assignee, the status that goes with it (new <-> open) and the conversation."""
    conv = await tx.conversation(ticket.conversation_id)
    status = S(ticket.status)
    ticket.assignee_id = to_user_id
    ticket.updated_at = tx.now()
    if to_user_id is None and status is S.OPEN:
        await lifecycle.transition(tx, ticket, conv, S.NEW, actor_id=actor_id, announce=False, reason=reason)
    elif to_user_id is not None and status is S.NEW:
        await lifecycle.transition(tx, ticket, conv, S.OPEN, actor_id=actor_id, announce=False, reason=reason)
    else:
        await lifecycle.sync_conversation(tx, conv, ticket)


async def _check_active(tx: Tx, ticket: Ticket) -> None:
    await _ensure_initialised(tx, ticket)
    status = S(ticket.status)
    if status in lifecycle.DONE:
        raise ConflictError(f"ticket {ticket.number} is {lifecycle.LABELS[status]}")


def _notify_assigned(tx: Tx, ticket: Ticket, actor_name: str) -> None:
    if ticket.assignee_id is not None:
        tx.emit(
            "ticket.assigned",
            {
                "ticket_id": ticket.id,
                "number": ticket.number,
                "user_id": ticket.assignee_id,
                "subject": ticket.subject,
                "by": actor_name,
            },
        )


async def assign_in(
    tx: Tx, ticket: Ticket, to_user_id: int | None, *, actor_id: int | None, actor_name: str, reason: str
) -> TicketChange:
    """Assign inside a transaction that holds the conversation's lock."""
    await _check_active(tx, ticket)
    target_name = ""
    if to_user_id is not None:
        target = await _user(tx, to_user_id)
        target_name = target.display_name or target.name
    if ticket.assignee_id == to_user_id:
        raise ConflictError(
            f"ticket {ticket.number} is already " + (f"with {target_name}" if to_user_id else "unassigned")
        )
    before = {"assignee_id": ticket.assignee_id, "status": ticket.status}
    await _set_assignee(tx, ticket, to_user_id, actor_id=actor_id, reason=reason)
    after = {"assignee_id": ticket.assignee_id, "status": ticket.status}
    change = await history.record(tx, ticket, "assign", before, after, actor_id=actor_id, reason=reason)
    why = f" ({reason})" if reason else ""
    text = (
        f"gave ticket {ticket.number} to {target_name}"
        if to_user_id
        else f"put ticket {ticket.number} back in queue {ticket.queue}"
    )
    conv = await tx.conversation(ticket.conversation_id)
    await tx.add_event(conv, f"{actor_name or 'The desk'} {text}{why}.")
    _notify_assigned(tx, ticket, actor_name)
    await sla_clock.refresh(tx, ticket)
    return change


async def transfer_in(
    tx: Tx,
    ticket: Ticket,
    *,
    queue: str | None,
    to_user_id: int | None,
    actor_id: int | None,
    actor_name: str,
    reason: str,
    kind: str = "transfer",
) -> TicketChange:
    """To a queue (unassigned there unless ``to_user_id``) or an operator, with a reason."""
    await _check_active(tx, ticket)
    before = {"queue": ticket.queue, "assignee_id": ticket.assignee_id, "status": ticket.status}
    if queue is not None:
        await queue_row(tx, queue)
        if queue == ticket.queue and to_user_id is None:
            raise ConflictError(f"ticket {ticket.number} is already in queue {queue}")
        ticket.queue = queue
    where = f"queue {ticket.queue}"
    if to_user_id is not None:
        target = await _user(tx, to_user_id)
        where = target.display_name or target.name
        if to_user_id == ticket.assignee_id and queue in (None, before["queue"]):
            raise ConflictError(f"ticket {ticket.number} is already with {where}")
    if kind == "escalate":
        ticket.escalated_at = tx.now()
    await _set_assignee(tx, ticket, to_user_id, actor_id=actor_id, reason=reason)
    after = {"queue": ticket.queue, "assignee_id": ticket.assignee_id, "status": ticket.status}
    change = await history.record(tx, ticket, kind, before, after, actor_id=actor_id, reason=reason)
    verb = "escalated" if kind == "escalate" else "transferred"
    conv = await tx.conversation(ticket.conversation_id)
    who = actor_name or "The desk"
    await tx.add_event(conv, f"{who} {verb} ticket {ticket.number} to {where} ({reason}).")
    _notify_assigned(tx, ticket, actor_name)
    await sla_clock.refresh(tx, ticket)
    return change


async def escalate_in(
    tx: Tx, ticket: Ticket, *, actor_id: int | None, actor_name: str, reason: str
) -> TicketChange:
    """To the second-level queue (``tickets.second_level_queue``), unassigned there."""
    second = tx.settings.tickets.second_level_queue
    if ticket.queue == second:
        raise ConflictError(f"ticket {ticket.number} is already at second level")
    return await transfer_in(
        tx,
        ticket,
        queue=second,
        to_user_id=None,
        actor_id=actor_id,
        actor_name=actor_name,
        reason=reason,
        kind="escalate",
    )
