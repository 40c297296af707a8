"""The KPIs of a period, in total, by group (queue, operator, channel, day) and day by
day, from the facts (:mod:`gateway.reports.facts`).  Every definition is in
docs/KPIS.md; this module only counts.  Rates are fractions, ``None`` when nothing
was there to count; times are seconds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import Settings
from gateway.db.tables import Conversation, Ticket, User
from gateway.db.tables_csat import CsatSurvey
from gateway.errors import InvalidInputError
from gateway.reports.facts import BacklogFact, ConvFact, CsatFact, Facts, TicketFact, load_facts
from gateway.reports.period import Period

GROUPS = ("queue", "operator", "channel", "day")
CONVERSATION_FIELDS = ("conversations", "handled", "settled", "contained", "containment_rate", "handoffs",
                       "handoff_rate")

# The figures of one row, in the order of the CSV columns.
FIELDS = (
    "conversations", "handled", "settled", "contained", "containment_rate", "handoffs", "handoff_rate",
    "tickets", "escalated", "escalation_rate", "resolved", "fcr", "fcr_rate", "reopened", "reopen_rate",
    "frt_median_s", "frt_p90_s", "frt_bh_median_s", "frt_bh_p90_s",
    "resolution_median_s", "resolution_p90_s", "resolution_bh_median_s", "resolution_bh_p90_s",
    "wait_median_s", "wait_p90_s", "nrt_median_s", "nrt_p90_s", "nrt_bh_median_s", "nrt_bh_p90_s",
    "sla_frt_met", "sla_frt_breached", "sla_frt_rate", "sla_res_met", "sla_res_breached", "sla_res_rate",
    "csat_sent", "csat_answers", "csat_positive", "csat_rate", "csat_mean", "csat_response_rate",
    "backlog",
)


# Upper bounds (seconds, included) of the distribution buckets; a last bucket holds the rest.
BUCKETS = (15 * 60, 30 * 60, 60 * 60, 2 * 3600, 4 * 3600, 8 * 3600)


def histogram(values: Sequence[float | None]) -> list[int]:
    """How many values fall in each bucket of :data:`BUCKETS` (and above the last)."""
    counts = [0] * (len(BUCKETS) + 1)
    for v in values:
        if v is not None:
            counts[next((i for i, edge in enumerate(BUCKETS) if v <= edge), len(BUCKETS))] += 1
    return counts


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: the value at rank ceil(p·n/100) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _times(prefix: str, values: Sequence[float | None]) -> dict[str, float | None]:
    present = [v for v in values if v is not None]
    return {f"{prefix}_median_s": percentile(present, 50), f"{prefix}_p90_s": percentile(present, 90)}


def summarise(
    convs: Sequence[ConvFact],
    tickets: Sequence[TicketFact],
    sent: Sequence[CsatFact],
    answers: Sequence[CsatFact],
    backlog: int | None,
) -> dict[str, Any]:
    """One row of figures."""
    handled = [c for c in convs if c.handled]
    settled = [c for c in handled if c.settled]
    contained = sum(c.contained for c in settled)
    handoffs = sum(c.has_ticket for c in convs)
    resolved = [t for t in tickets if t.resolved]
    frt_met = sum(t.sla_frt == "met" for t in tickets)
    frt_breached = sum(t.sla_frt == "breached" for t in tickets)
    res_met = sum(t.sla_res == "met" for t in tickets)
    res_breached = sum(t.sla_res == "breached" for t in tickets)
    ratings = [a.rating for a in answers if a.rating is not None]
    positive = sum(r >= 4 for r in ratings)
    answered_of_sent = sum(s.answered_at is not None for s in sent)
    row: dict[str, Any] = {
        "conversations": len(convs),
        "handled": len(handled),
        "settled": len(settled),
        "contained": contained,
        "containment_rate": rate(contained, len(settled)),
        "handoffs": handoffs,
        "handoff_rate": rate(handoffs, len(handled)),
        "tickets": len(tickets),
        "escalated": sum(t.escalated for t in tickets),
        "escalation_rate": rate(sum(t.escalated for t in tickets), len(tickets)),
        "resolved": len(resolved),
        "fcr": sum(t.fcr for t in resolved),
        "fcr_rate": rate(sum(t.fcr for t in resolved), len(resolved)),
        "reopened": sum(t.reopened for t in resolved),
        "reopen_rate": rate(sum(t.reopened for t in resolved), len(resolved)),
        **_times("frt", [t.frt_s for t in tickets]),
        **_times("frt_bh", [t.frt_bh_s for t in tickets]),
        **_times("resolution", [t.resolution_s for t in tickets]),
        **_times("resolution_bh", [t.resolution_bh_s for t in tickets]),
        **_times("wait", [t.wait_s for t in tickets]),
        **_times("nrt", [v for t in tickets for v in t.nrt_s]),
        **_times("nrt_bh", [v for t in tickets for v in t.nrt_bh_s]),
        "sla_frt_met": frt_met,
        "sla_frt_breached": frt_breached,
        "sla_frt_rate": rate(frt_met, frt_met + frt_breached),
        "sla_res_met": res_met,
        "sla_res_breached": res_breached,
        "sla_res_rate": rate(res_met, res_met + res_breached),
        "csat_sent": len(sent),
        "csat_answers": len(ratings),
        "csat_positive": positive,
        "csat_rate": rate(positive, len(ratings)),
        "csat_mean": sum(ratings) / len(ratings) if ratings else None,
        "csat_response_rate": rate(answered_of_sent, len(sent)),
        "backlog": backlog,
    }
    return row


def _in_period(facts: Facts) -> tuple[list[CsatFact], list[CsatFact]]:
    sent = [s for s in facts.csat if facts.period.contains(s.sent_at)]
    answers = [s for s in facts.csat if facts.period.contains(s.answered_at)]
    return sent, answers


def _backlog_at(items: Sequence[BacklogFact], instant: datetime) -> int:
    return sum(b.open_at(instant) for b in items)


def _by_key(facts: Facts, key: Callable[[Any], str]) -> list[dict[str, Any]]:
    sent, answers = _in_period(facts)
    keys = sorted({key(x) for x in (*facts.tickets, *sent, *answers, *facts.backlog)})
    rows = []
    for k in keys:
        row = summarise(
            [],
            [t for t in facts.tickets if key(t) == k],
            [s for s in sent if key(s) == k],
            [a for a in answers if key(a) == k],
            _backlog_at([b for b in facts.backlog if key(b) == k], min(facts.period.end, facts.now)),
        )
        for name in CONVERSATION_FIELDS:
            row[name] = None  # conversations without a ticket have no queue or operator
        rows.append({"key": k, **row})
    return rows


def _by_channel(facts: Facts) -> list[dict[str, Any]]:
    sent, answers = _in_period(facts)
    items: list[Any] = [*facts.conversations, *facts.tickets, *sent, *answers]
    keys = sorted({x.channel for x in items})
    return [
        {"key": k, **summarise(
            [c for c in facts.conversations if c.channel == k],
            [t for t in facts.tickets if t.channel == k],
            [s for s in sent if s.channel == k],
            [a for a in answers if a.channel == k],
            _backlog_at([b for b in facts.backlog if b.channel == k], min(facts.period.end, facts.now)),
        )}
        for k in keys
    ]


def daily(facts: Facts) -> list[dict[str, Any]]:
    """One row per day of the period (days of ``reports.timezone``), empty days too."""
    p: Period = facts.period
    sent, answers = _in_period(facts)

    def on(day: date) -> Callable[[datetime | None], bool]:
        return lambda at: at is not None and p.day_of(at) == day

    rows = []
    for day in p.days():
        same = on(day)
        rows.append({"key": day.isoformat(), **summarise(
            [c for c in facts.conversations if same(c.created_at)],
            [t for t in facts.tickets if same(t.created_at)],
            [s for s in sent if same(s.sent_at)],
            [a for a in answers if same(a.answered_at)],
            _backlog_at(facts.backlog, min(p.day_end(day), facts.now)),
        )})
    return rows


def groups(facts: Facts, group: str) -> list[dict[str, Any]]:
    if group == "day":
        return daily(facts)
    if group == "channel":
        return _by_channel(facts)
    if group == "queue":
        return _by_key(facts, lambda x: x.queue)
    if group == "operator":
        return _by_key(facts, lambda x: x.operator)
    raise InvalidInputError(f"group must be one of {', '.join(GROUPS)}")


def report(facts: Facts, group: str = "day") -> dict[str, Any]:
    """Totals, the chosen grouping, the daily series and the ratings' distribution."""
    if group not in GROUPS:
        raise InvalidInputError(f"group must be one of {', '.join(GROUPS)}")
    sent, answers = _in_period(facts)
    totals = summarise(facts.conversations, facts.tickets, sent, answers,
                       _backlog_at(facts.backlog, min(facts.period.end, facts.now)))
    days = daily(facts)
    ratings = Counter(a.rating for a in answers if a.rating is not None)
    return {
        "period": {**facts.period.to_dict(), "group": group},
        "generated_at": facts.now.isoformat(),
        "totals": totals,
        "groups": days if group == "day" else groups(facts, group),
        "daily": days,
        "csat_distribution": {str(r): ratings.get(r, 0) for r in range(1, 6)},
        "distributions": {  # business hours; counts per bucket, the last one above BUCKETS[-1]
            "edges_s": list(BUCKETS),
            "frt_bh": histogram([t.frt_bh_s for t in facts.tickets]),
            "resolution_bh": histogram([t.resolution_bh_s for t in facts.tickets]),
        },
        "fields": list(FIELDS),
        "definitions": "docs/KPIS.md",
    }


async def kpi_report(sessions: async_sessionmaker[AsyncSession], settings: Settings, period: Period,
                     now: datetime, group: str = "day") -> dict[str, Any]:
    if group not in GROUPS:
        raise InvalidInputError(f"group must be one of {', '.join(GROUPS)}")
    async with sessions() as session:
        facts = await load_facts(session, settings, period, now)
    return report(facts, group)


async def csat_answers(sessions: async_sessionmaker[AsyncSession], period: Period,
                       limit: int = 200) -> list[dict[str, Any]]:
    """The survey answers of the period, newest first, with what the customer wrote."""
    stmt = (
        select(CsatSurvey, Ticket.number, Ticket.queue, User.name, Conversation.channel)
        .join(Ticket, Ticket.id == CsatSurvey.ticket_id)
        .join(Conversation, Conversation.id == CsatSurvey.conversation_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(CsatSurvey.answered_at >= period.start, CsatSurvey.answered_at < period.end)
        .order_by(CsatSurvey.answered_at.desc(), CsatSurvey.id.desc())
        .limit(limit)
    )
    async with sessions() as session:
        rows = (await session.execute(stmt)).all()
    return [
        {
            "ticket_id": s.ticket_id,
            "ticket_number": number,
            "rating": s.rating,
            "comment": s.comment,
            "answered_at": s.answered_at.isoformat() if s.answered_at else None,
            "queue": queue,
            "operator": operator or "unassigned",
            "channel": channel,
        }
        for s, number, queue, operator, channel in rows
    ]
