"""What the KPIs are computed from, read from the tables with portable SQL: one fact
per conversation, ticket, survey and backlog candidate of the period, with its group
keys (queue, operator, channel) and its measures already taken (docs/KPIS.md).

Reads only: a report never changes a row and takes no conversation lock.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config import Settings
from gateway.db.tables import Conversation, Message, Ticket, User
from gateway.db.tables_csat import CsatSurvey
from gateway.db.tables_merge import TicketMerge
from gateway.db.tables_tickets import TicketEvent, TicketPause
from gateway.models import AuthorKind, MessageKind
from gateway.reports.period import Period
from gateway.tickets.calendar import BusinessCalendar, Pause
from gateway.tickets.policies import DeskPolicies
from gateway.tickets.sla import BREACHED, MET, SlaHistory, compute
from gateway.tickets.sla_clock import get_policies

RETURN_WINDOW = timedelta(hours=24)  # a customer back within this was not contained
ACTIVE = frozenset({"new", "open", "pending_customer", "pending_third_party"})
DONE = frozenset({"resolved", "closed"})
UNASSIGNED = "unassigned"
CHUNK = 500


@dataclass(frozen=True, slots=True)
class ConvFact:
    id: int
    channel: str
    created_at: datetime
    has_ticket: bool
    handled: bool  # the bot replied or a ticket was opened (not an ignored auto-reply...)
    settled: bool  # a ticket, or a last message at least 24 h old
    contained: bool


@dataclass(frozen=True, slots=True)
class TicketFact:
    id: int
    queue: str
    operator: str
    channel: str
    created_at: datetime
    resolved: bool
    escalated: bool
    reopened: bool
    human_replies: int
    frt_s: float | None = None
    frt_bh_s: float | None = None
    resolution_s: float | None = None
    resolution_bh_s: float | None = None
    wait_s: float | None = None
    nrt_s: tuple[float, ...] = ()  # next response times (wall), one per answered customer message cycle
    nrt_bh_s: tuple[float, ...] = ()
    sla_frt: str | None = None  # met | breached | None (running within target, or no target)
    sla_res: str | None = None

    @property
    def fcr(self) -> bool:
        return self.resolved and self.human_replies == 1 and not self.reopened


@dataclass(frozen=True, slots=True)
class CsatFact:
    queue: str
    operator: str
    channel: str
    sent_at: datetime
    answered_at: datetime | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class BacklogFact:
    queue: str
    operator: str
    channel: str
    created_at: datetime
    changes: tuple[tuple[datetime, str], ...]  # (when, status) from the history, in order
    resolved_at: datetime | None
    closed_at: datetime | None

    def open_at(self, instant: datetime) -> bool:
        """Whether the ticket was neither resolved nor closed at ``instant``."""
        if self.created_at >= instant:
            return False
        if self.changes:
            times = [at for at, _ in self.changes]
            i = bisect.bisect_left(times, instant)
            return i == 0 or self.changes[i - 1][1] in ACTIVE
        done = [t for t in (self.resolved_at, self.closed_at) if t is not None and t < instant]
        return not done


@dataclass
class Facts:
    period: Period
    now: datetime
    conversations: list[ConvFact] = field(default_factory=list)
    tickets: list[TicketFact] = field(default_factory=list)
    csat: list[CsatFact] = field(default_factory=list)
    backlog: list[BacklogFact] = field(default_factory=list)


def business_seconds(calendar: BusinessCalendar, start: datetime, end: datetime,
                     pauses: Sequence[Pause]) -> float:
    """Business time from ``start`` to ``end`` with the pauses before ``end`` taken
    out (as the SLA clock measures a met target)."""
    relevant = [(s, e if e is not None and e <= end else end) for s, e in pauses if s < end]
    return calendar.elapsed(start, end, relevant).total_seconds()


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


async def _by_ids(session: AsyncSession, stmt_for: Any, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(list(ids)):
        rows.extend((await session.execute(stmt_for(chunk))).all())
    return rows


def _not_merged_ticket() -> Any:
    """A ticket merged into another is a duplicate: its figures are the target's."""
    merged = select(TicketMerge.source_ticket_id).where(TicketMerge.source_ticket_id.is_not(None))
    return Ticket.id.notin_(merged)


def _not_merged_conversation() -> Any:
    return Conversation.id.notin_(select(TicketMerge.source_conversation_id))


def _human() -> tuple[Any, ...]:
    return (Message.author_kind == AuthorKind.OPERATOR.value, Message.kind == MessageKind.MESSAGE.value)


async def load_conversations(session: AsyncSession, period: Period, now: datetime) -> list[ConvFact]:
    cv = Conversation
    stmt = select(cv.id, cv.customer_id, cv.channel, cv.created_at).where(
        cv.created_at >= period.start, cv.created_at < period.end, _not_merged_conversation()
    )
    convs = (await session.execute(stmt)).all()
    ids = [c.id for c in convs]
    last: dict[int, datetime] = {}
    for cid, at in await _by_ids(session, lambda ch: select(
            Message.conversation_id, func.max(Message.created_at)).where(
            Message.conversation_id.in_(ch)).group_by(Message.conversation_id), ids):
        last[cid] = at
    with_ticket = {r[0] for r in await _by_ids(session, lambda ch: select(Ticket.conversation_id).where(
        Ticket.conversation_id.in_(ch)).distinct(), ids)}
    with_human = {r[0] for r in await _by_ids(session, lambda ch: select(Message.conversation_id).where(
        Message.conversation_id.in_(ch), *_human()).distinct(), ids)}
    with_bot = {r[0] for r in await _by_ids(session, lambda ch: select(Message.conversation_id).where(
        Message.conversation_id.in_(ch), Message.author_kind == AuthorKind.BOT.value,
        Message.kind == MessageKind.MESSAGE.value).distinct(), ids)}
    customers = sorted({c.customer_id for c in convs})
    starts: dict[int, list[datetime]] = defaultdict(list)
    for cust, at in await _by_ids(session, lambda ch: select(
            Conversation.customer_id, Conversation.created_at).where(
            Conversation.customer_id.in_(ch), Conversation.created_at >= period.start), customers):
        starts[cust].append(at)
    facts = []
    for c in convs:
        last_at = last.get(c.id, c.created_at)
        has_ticket = c.id in with_ticket
        returned = any(last_at < at <= last_at + RETURN_WINDOW for at in starts[c.customer_id])
        handled = has_ticket or c.id in with_bot
        settled = has_ticket or c.id in with_human or returned or now - last_at >= RETURN_WINDOW
        contained = handled and settled and not has_ticket and c.id not in with_human and not returned
        facts.append(ConvFact(c.id, c.channel, c.created_at, has_ticket, handled, settled, contained))
    return facts


async def _user_names(session: AsyncSession) -> dict[int, str]:
    rows = (await session.execute(select(User.id, User.name))).all()
    return {uid: name for uid, name in rows}


async def _events(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[TicketEvent]]:
    found: dict[int, list[TicketEvent]] = defaultdict(list)
    for chunk in _chunks(list(ids)):
        stmt = select(TicketEvent).where(TicketEvent.ticket_id.in_(chunk)).order_by(TicketEvent.id)
        for e in (await session.execute(stmt)).scalars():
            found[e.ticket_id].append(e)
    return found


async def _pauses(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[Pause]]:
    found: dict[int, list[Pause]] = defaultdict(list)
    for chunk in _chunks(list(ids)):
        stmt = select(TicketPause).where(TicketPause.ticket_id.in_(chunk)).order_by(TicketPause.started_at)
        for p in (await session.execute(stmt)).scalars():
            found[p.ticket_id].append((p.started_at, p.ended_at))
    return found


Talk = list[tuple[str, datetime]]


async def _talk(session: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, Talk]:
    """(author kind, time) of the visible customer and human messages, per conversation."""
    found: dict[int, Talk] = defaultdict(list)
    kinds = (AuthorKind.CUSTOMER.value, AuthorKind.OPERATOR.value)
    for cid, kind, when in await _by_ids(session, lambda ch: select(
            Message.conversation_id, Message.author_kind, Message.created_at).where(
            Message.conversation_id.in_(ch), Message.kind == MessageKind.MESSAGE.value,
            Message.author_kind.in_(kinds)).order_by(Message.id), sorted(set(conversation_ids))):
        found[cid].append((str(kind), when))
    return found


def next_response_cycles(talk: Sequence[tuple[str, datetime]]) -> list[tuple[datetime, datetime]]:
    """(first customer message after a human reply, the next human reply) pairs: the
    next-response clock of the SLA, one cycle per wait that a person ended."""
    cycles: list[tuple[datetime, datetime]] = []
    answered = False
    waiting: datetime | None = None
    for kind, when in talk:
        if kind == AuthorKind.OPERATOR.value:
            if waiting is not None:
                cycles.append((waiting, when))
            answered, waiting = True, None
        elif answered and waiting is None:
            waiting = when
    return cycles


def _reopened(events: Sequence[TicketEvent]) -> bool:
    return any(
        e.kind == "status" and (e.before or {}).get("status") in DONE
        and (e.after or {}).get("status") in ACTIVE
        for e in events
    )


def _assigned_at(ticket: Ticket, events: Sequence[TicketEvent]) -> datetime | None:
    for e in events:
        if (e.after or {}).get("assignee_id") is not None:
            return e.at
    return None


def _sla_states(policies: DeskPolicies, ticket: Ticket, channel: str, first: datetime | None,
                pauses: Sequence[Pause], now: datetime) -> tuple[str | None, str | None, BusinessCalendar]:
    policy = policies.by_name(ticket.sla_policy) or policies.choose(
        {"queue": ticket.queue, "category": ticket.category, "tier": "", "channel": channel})
    calendar = policies.calendar(policy)
    history = SlaHistory(ticket.created_at, first, ticket.resolved_at, None, tuple(pauses))
    status = compute(policy, calendar, ticket.priority, history, now, policies.share(policy))

    def state(target: str) -> str | None:
        clock = status.clock(target)
        if clock is None:
            return None
        if clock.state == MET:
            return "met"
        return "breached" if clock.state == BREACHED or clock.breached else None

    return state("first_response"), state("resolution"), calendar


async def load_tickets(session: AsyncSession, settings: Settings, period: Period, now: datetime,
                       names: dict[int, str]) -> list[TicketFact]:
    stmt = (
        select(Ticket, Conversation.channel)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .where(Ticket.created_at >= period.start, Ticket.created_at < period.end, _not_merged_ticket())
        .order_by(Ticket.id)
    )
    rows = (await session.execute(stmt)).all()
    ids = [t.id for t, _ in rows]
    replies: dict[int, tuple[int, datetime]] = {}
    for tid, count, first in await _by_ids(session, lambda ch: select(
            Ticket.id, func.count(Message.id), func.min(Message.created_at))
            .join(Message, Message.conversation_id == Ticket.conversation_id)
            .where(Ticket.id.in_(ch), Message.created_at >= Ticket.created_at, *_human())
            .group_by(Ticket.id), ids):
        replies[tid] = (int(count), first)
    events = await _events(session, ids)
    talk = await _talk(session, [t.conversation_id for t, _ in rows])
    pauses = await _pauses(session, ids)
    policies = get_policies(settings.tickets)
    facts = []
    for t, channel in rows:
        count, first_msg = replies.get(t.id, (0, None))
        first = t.first_response_at or first_msg
        p = pauses.get(t.id, [])
        sla_frt, sla_res, calendar = _sla_states(policies, t, channel, first, p, now)
        resolved_at = t.resolved_at if t.status in DONE else None
        assigned = _assigned_at(t, events.get(t.id, []))
        since = [(k, a) for k, a in talk.get(t.conversation_id, []) if a >= t.created_at]
        cycles = next_response_cycles(since)
        facts.append(TicketFact(
            id=t.id,
            queue=t.queue,
            operator=names.get(t.assignee_id or 0, UNASSIGNED),
            channel=channel,
            created_at=t.created_at,
            resolved=resolved_at is not None,
            escalated=t.escalated_at is not None,
            reopened=_reopened(events.get(t.id, [])),
            human_replies=count,
            frt_s=(first - t.created_at).total_seconds() if first else None,
            frt_bh_s=business_seconds(calendar, t.created_at, first, p) if first else None,
            resolution_s=(resolved_at - t.created_at).total_seconds() if resolved_at else None,
            resolution_bh_s=business_seconds(calendar, t.created_at, resolved_at, p) if resolved_at else None,
            wait_s=(assigned - t.created_at).total_seconds() if assigned else None,
            nrt_s=tuple((end - start).total_seconds() for start, end in cycles),
            nrt_bh_s=tuple(business_seconds(calendar, start, end, p) for start, end in cycles),
            sla_frt=sla_frt,
            sla_res=sla_res,
        ))
    return facts


async def load_csat(session: AsyncSession, period: Period, names: dict[int, str]) -> list[CsatFact]:
    stmt = (
        select(CsatSurvey, Ticket.queue, Ticket.assignee_id)
        .join(Ticket, Ticket.id == CsatSurvey.ticket_id)
        .where(
            ((CsatSurvey.sent_at >= period.start) & (CsatSurvey.sent_at < period.end))
            | ((CsatSurvey.answered_at >= period.start) & (CsatSurvey.answered_at < period.end))
        )
    )
    return [
        CsatFact(queue, names.get(assignee or 0, UNASSIGNED), s.channel, s.sent_at, s.answered_at, s.rating)
        for s, queue, assignee in (await session.execute(stmt)).all()
    ]


async def load_backlog(session: AsyncSession, period: Period, names: dict[int, str]) -> list[BacklogFact]:
    """Tickets that may have been open at some instant of the period."""
    stmt = (
        select(Ticket, Conversation.channel)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .where(Ticket.created_at < period.end,
               (Ticket.closed_at.is_(None)) | (Ticket.closed_at >= period.start), _not_merged_ticket())
    )
    rows = (await session.execute(stmt)).all()
    events = await _events(session, [t.id for t, _ in rows])
    facts = []
    for t, channel in rows:
        changes = tuple((e.at, str(e.after["status"])) for e in events.get(t.id, [])
                        if isinstance(e.after, dict) and e.after.get("status"))
        facts.append(BacklogFact(t.queue, names.get(t.assignee_id or 0, UNASSIGNED), channel,
                                 t.created_at, changes, t.resolved_at, t.closed_at))
    return facts


async def load_facts(session: AsyncSession, settings: Settings, period: Period, now: datetime) -> Facts:
    names = await _user_names(session)
    return Facts(
        period=period,
        now=now,
        conversations=await load_conversations(session, period, now),
        tickets=await load_tickets(session, settings, period, now, names),
        csat=await load_csat(session, period, names),
        backlog=await load_backlog(session, period, names),
    )
