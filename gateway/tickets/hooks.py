"""What the core calls into the desk, inside its own transaction and under the
conversation's lock.  Each is idempotent, and the sweeper
(:mod:`gateway.tickets.sweeper`) does the same work from the recorded history when a
call was not made, so they make things happen at once rather than make them happen.

Where the core calls them:

- :func:`on_ticket_created` right after ``Tx.open_ticket`` (``Router.hand_off``,
  ``SqlOperatorService.reply``): priority from the matrix and frustration, SLA policy
  and deadlines, the "created" history row;
- :func:`on_customer_message` when a customer message is stored on a conversation
  (``SqlStore._accept``, or first thing in ``Router._apply``): reopens a resolved ticket
  (then the bot must stay silent: it returns True) and ends ``pending_customer``;
- :func:`on_human_reply` when an operator's visible reply is stored
  (``SqlOperatorService.reply`` calls it): stops the first-response / next-response
  clock.  Bot replies never call it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.db.tables import Conversation, Message, Ticket
from gateway.flow.tx import Tx
from gateway.models import AuthorKind, MessageKind
from gateway.models import TicketStatus as S
from gateway.tickets import history, lifecycle, priority, sla_clock
from gateway.tickets.history import TicketChange


async def customer_texts(tx: Tx, conv: Conversation, limit: int = 20) -> list[str]:
    stmt = (
        select(Message.text)
        .where(
            Message.conversation_id == conv.id,
            Message.author_kind == AuthorKind.CUSTOMER.value,
            Message.kind == MessageKind.MESSAGE.value,
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed([str(t) for t in (await tx.session.execute(stmt)).scalars()]))


async def on_ticket_created(tx: Tx, ticket: Ticket, conv: Conversation | None = None) -> TicketChange | None:
    """Set a new ticket's priority (matrix, raised for frustration), SLA policy and
    deadlines, and record its creation.  Nothing if already done (returns None)."""
    if ticket.sla_policy is not None:
        return None
    conv = conv or await tx.conversation(ticket.conversation_id)
    cfg = tx.settings.tickets
    policies = sla_clock.get_policies(cfg)
    choice = priority.initial_priority(
        policies.matrix,
        ticket.urgency or "medium",
        ticket.impact or "medium",
        handoff_reason=ticket.handoff_reason,
        customer_texts=await customer_texts(tx, conv),
        frustration_raise=cfg.frustration_raise,
    )
    ticket.priority = choice.priority
    status = await sla_clock.refresh(tx, ticket, policies)
    after = {
        "status": ticket.status,
        "queue": ticket.queue,
        "priority": ticket.priority,
        "urgency": ticket.urgency,
        "impact": ticket.impact,
        "sla_policy": status.policy,
    }
    reason = "; ".join(choice.reasons)
    change = await history.record(tx, ticket, "created", {}, after, actor_id=None, reason=reason)
    if choice.reasons:
        await tx.add_event(conv, f"Priority {choice.priority} (from {choice.base}): {reason}.")
    return change


async def latest_ticket(tx: Tx, conv: Conversation) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.conversation_id == conv.id).order_by(Ticket.id.desc()).limit(1)
    return (await tx.session.execute(stmt)).scalar_one_or_none()


async def on_customer_message(tx: Tx, conv: Conversation, message: Message | None = None) -> bool:
    """A customer wrote on ``conv``.  Ends ``pending_customer``; reopens a resolved ticket
    (within ``tickets.reopen_days`` and unless the conversation went back to the bot).
    Returns True when the conversation is now an operator's: the bot must not answer."""
    ticket = await latest_ticket(tx, conv)
    if ticket is None:
        return False
    await on_ticket_created(tx, ticket, conv)  # if the core did not call it
    status = S(ticket.status)
    if status is S.PENDING_CUSTOMER:
        target = S.OPEN if ticket.assignee_id is not None else S.NEW
        await lifecycle.transition(tx, ticket, conv, target, actor_id=None, reason="the customer replied")
    elif status is S.RESOLVED:
        if conv.state == "bot" or ticket.resolved_at is None:
            return False
        window = timedelta(days=tx.settings.tickets.reopen_days)
        if tx.now() - ticket.resolved_at > window:
            return False
        target = S.OPEN if ticket.assignee_id is not None else S.NEW
        await lifecycle.transition(tx, ticket, conv, target, actor_id=None, reason="the customer replied")
    elif status is S.CLOSED:
        return False
    await sla_clock.refresh(tx, ticket)
    await tx.emit_ticket("ticket.updated", ticket)
    return S(ticket.status) in lifecycle.ACTIVE


async def on_human_reply(tx: Tx, ticket: Ticket, message: Message) -> None:
    """An operator's visible reply: the first one is the first response (kept forever);
    any one answers the customer's waiting message (next response)."""
    if message.author_kind != AuthorKind.OPERATOR.value or message.kind != MessageKind.MESSAGE.value:
        return  # bots, notes and events never stop a clock
    if ticket.first_response_at is None:
        ticket.first_response_at = message.created_at
    await on_ticket_created(tx, ticket)
    await sla_clock.refresh(tx, ticket)
