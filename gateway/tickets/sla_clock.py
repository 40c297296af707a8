"""SLA clocks on the store: read a ticket's history (creation, the first human reply,
customer messages waiting for an answer, recorded pauses), compute its clocks
(:mod:`gateway.tickets.sla`) and write the deadlines onto the ticket row, where the
queue sorts and filters by them.  The row is a cache: :func:`refresh` rebuilds it from
the history every time, so it never drifts.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import select

from gateway.config import TicketSettings
from gateway.db.tables import Conversation, Message, Ticket
from gateway.db.tables_tickets import CustomerTier
from gateway.flow.tx import Tx
from gateway.models import AuthorKind, MessageKind
from gateway.tickets import history
from gateway.tickets.policies import DeskPolicies, SlaPolicy, load_policies
from gateway.tickets.sla import SlaHistory, SlaStatus, compute

_cache: dict[tuple[str, float, float], DeskPolicies] = {}


def get_policies(settings: TicketSettings) -> DeskPolicies:
    """The policies in force, loaded once and again whenever the file changes."""
    mtime = 0.0
    if settings.policy_file:
        try:
            mtime = os.stat(settings.policy_file).st_mtime
        except OSError:
            mtime = -1.0  # load_policies raises the clear error
    key = (settings.policy_file, mtime, settings.warn_share)
    found = _cache.get(key)
    if found is None:
        found = load_policies(settings)
        _cache.clear()
        _cache[key] = found
    return found


async def facts(tx: Tx, ticket: Ticket, conv: Conversation | None = None) -> dict[str, str]:
    """What SLA policies can depend on: queue, category, customer tier, channel."""
    conv = conv or await tx.conversation(ticket.conversation_id)
    stmt = select(CustomerTier.tier).where(CustomerTier.customer_id == conv.customer_id)
    tier = await tx.session.scalar(stmt)
    return {"queue": ticket.queue, "category": ticket.category, "tier": tier or "", "channel": conv.channel}


async def human_and_customer_times(tx: Tx, ticket: Ticket) -> list[tuple[str, datetime]]:
    """("customer" | "operator", time) of the visible messages since the ticket opened.
    Bot and system messages, notes and events are left out: they never stop a clock."""
    stmt = (
        select(Message.author_kind, Message.created_at)
        .where(
            Message.conversation_id == ticket.conversation_id,
            Message.created_at >= ticket.created_at,
            Message.kind == MessageKind.MESSAGE.value,
            Message.author_kind.in_((AuthorKind.CUSTOMER.value, AuthorKind.OPERATOR.value)),
        )
        .order_by(Message.id)
    )
    return [(str(kind), at) for kind, at in (await tx.session.execute(stmt)).all()]


def awaiting_since(times: list[tuple[str, datetime]]) -> tuple[datetime | None, datetime | None]:
    """(first human reply, first customer message not answered by a human since the
    last human reply)."""
    first_human: datetime | None = None
    waiting: datetime | None = None
    for kind, at in times:
        if kind == AuthorKind.OPERATOR.value:
            first_human = first_human or at
            waiting = None
        elif first_human is not None and waiting is None:
            waiting = at
    return first_human, waiting


async def sla_history(tx: Tx, ticket: Ticket) -> SlaHistory:
    times = await human_and_customer_times(tx, ticket)
    first_human, waiting = awaiting_since(times)
    if ticket.first_response_at is None and first_human is not None:
        ticket.first_response_at = first_human  # healed from the messages themselves
    return SlaHistory(
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        awaiting_since=waiting,
        pauses=await history.pauses(tx.session, ticket.id),
    )


async def choose_policy(tx: Tx, ticket: Ticket, policies: DeskPolicies) -> SlaPolicy:
    return policies.choose(await facts(tx, ticket))


async def status(tx: Tx, ticket: Ticket, policies: DeskPolicies, now: datetime | None = None) -> SlaStatus:
    """The clocks of ``ticket`` now, without writing anything."""
    policy = policies.by_name(ticket.sla_policy) or await choose_policy(tx, ticket, policies)
    return compute(
        policy,
        policies.calendar(policy),
        ticket.priority,
        await sla_history(tx, ticket),
        now or tx.now(),
        policies.share(policy),
    )


async def refresh(tx: Tx, ticket: Ticket, policies: DeskPolicies | None = None) -> SlaStatus:
    """Choose the policy again (the queue, category or tier may have changed), compute
    the clocks from the history and store the deadlines on the ticket."""
    policies = policies or get_policies(tx.settings.tickets)
    policy = await choose_policy(tx, ticket, policies)
    ticket.sla_policy = policy.name
    result = compute(
        policy,
        policies.calendar(policy),
        ticket.priority,
        await sla_history(tx, ticket),
        tx.now(),
        policies.share(policy),
    )
    first = result.clock("first_response")
    nxt = result.clock("next_response")
    resolution = result.clock("resolution")
    ticket.first_response_due = first.due_at if first else None
    ticket.next_response_due = nxt.due_at if nxt else None
    ticket.resolution_due = resolution.due_at if resolution else None
    ticket.sla_due = result.due
    ticket.sla_paused = result.paused
    return result


def ticket_sla_fields(ticket: Ticket) -> dict[str, Any]:
    """The stored SLA columns, for listings (no computation)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "sla_policy": ticket.sla_policy,
        "sla_due": iso(ticket.sla_due),
        "sla_paused": ticket.sla_paused,
        "first_response_due": iso(ticket.first_response_due),
        "next_response_due": iso(ticket.next_response_due),
        "resolution_due": iso(ticket.resolution_due),
    }
