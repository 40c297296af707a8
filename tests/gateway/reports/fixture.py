"""A small desk history with known timestamps, written straight into the tables, and
the figures it must give, computed BY HAND below (docs/KPIS.md).

Calendar "office": UTC, Monday-Friday 09:00-17:00.  Policy "standard", P3: first
response 60 business minutes, resolution 480.  Period: Monday 5 and Tuesday 6
January 2026 (from=2026-01-05, to=2026-01-06: [Jan 5 00:00, Jan 7 00:00) UTC).
The report is made on Friday 9 January 12:00, so every conversation is settled.

Conversations (customer, channel):
  C0 H webchat Sun 4 11:00  ticket T0 (before the period: only in the backlog and CSAT sent)
  C1 A webchat Mon 5 09:00  bot only, never back              -> contained
  C2 B webchat Mon 5 10:00  bot only, B back at 20:00 (< 24 h) -> not contained
  C3 B webchat Mon 5 20:00  bot only, never back              -> contained
  C4 D email   Mon 5 09:00  ticket T1
  C5 E webchat Mon 5 16:30  ticket T2 (reopened)
  C6 F email   Tue 6 09:00  ticket T3 (first response late, escalated, resolved late)
  C7 G webchat Tue 6 16:00  ticket T4 (never answered: a bot message only)
  C8 K email   Tue 6 18:00  an out-of-office mail nobody answers: started, not handled,
                            neither contained nor handed off
  C9 D email   Tue 6 08:00  ticket T5, a duplicate of T1 merged into it at 08:30: counted nowhere

T1 L1 olga: created Mon 09:00, bot message 09:00:10 (not a reply), assigned 09:10,
   olga replies 09:30, resolved 10:00.  FRT 1800 s (business 1800), resolution 3600
   (3600), wait 600, SLA met/met, FCR.  Survey sent Mon 10:00:01, answered 11:00: 5.
T2 L1 paul: created Mon 16:30, assigned 16:40, paul replies Tue 09:15 (FRT 60300 s;
   business: 16:30-17:00 + 09:00-09:15 = 45 min = 2700 s, met), an internal note
   (no reply), resolved Tue 10:00, the customer reopens 11:00 (pause 10:00-11:00),
   paul replies 11:30, resolved 12:00.  Resolution 70200 s; business 16:30-17:00 +
   09:00-12:00 - pause 60 min = 150 min = 9000 s (met).  Reopened: no FCR.
   Survey sent Tue 10:00:01, answered 10:30: 2.
T3 L2 olga: created Tue 09:00, assigned 10:20 (wait 4800 s), olga replies 10:30
   (FRT 5400 s = 90 business min > 60: breached), escalated 10:30, resolved Wed 7
   09:30 (resolution 88200 s; business Tue 480 + Wed 30 = 510 min = 30600 s > 480:
   breached).  One reply, no reopen: FCR.  Survey sent and answered Wed 7 (outside).
T4 L1 unassigned, new: created Tue 16:00, a bot message 16:05.  By Friday noon both
   clocks are breached (60 business min by Tue 17:00; 1200 min > 480).
T0 L1 unassigned: created Sun 4 12:00, resolved Tue 6 12:00; survey sent 12:00:01,
   never answered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import create_user
from gateway.db.tables import Conversation, Customer, IdentityRow, Message, Ticket
from gateway.db.tables_csat import CsatSurvey
from gateway.db.tables_merge import TicketMerge
from gateway.db.tables_tickets import TicketEvent, TicketPause

POLICY_FILE = """
[calendars.office]
timezone = "UTC"
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]

[[sla]]
name = "standard"
calendar = "office"
first_response = { P1 = 60, P2 = 60, P3 = 60, P4 = 60 }
resolution = { P1 = 480, P2 = 480, P3 = 480, P4 = 480 }
on_breach = ["notify"]
"""

NOW = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
FROM, TO = "2026-01-05", "2026-01-06"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC)


# ---------------------------------------------------------- the figures, by hand
MIN = 60
EXPECTED_TOTALS: dict[str, Any] = {
    "conversations": 8,  # C1..C8
    "handled": 7,  # C1..C7: the bot replied or a ticket was opened
    "settled": 7,  # all of them: the report is made days later
    "contained": 2,  # C1, C3
    "containment_rate": 2 / 7,
    "handoffs": 4,  # C4..C7
    "handoff_rate": 4 / 7,
    "tickets": 4,  # T1..T4
    "escalated": 1,  # T3
    "escalation_rate": 1 / 4,
    "resolved": 3,  # T1, T2, T3
    "fcr": 2,  # T1, T3
    "fcr_rate": 2 / 3,
    "reopened": 1,  # T2
    "reopen_rate": 1 / 3,
    # FRT wall [1800, 5400, 60300]: median rank 2, p90 rank ceil(2.7) = 3
    "frt_median_s": 5400, "frt_p90_s": 60300,
    "frt_bh_median_s": 45 * MIN, "frt_bh_p90_s": 90 * MIN,  # [1800, 2700, 5400]
    "resolution_median_s": 70200, "resolution_p90_s": 88200,  # [3600, 70200, 88200]
    "resolution_bh_median_s": 150 * MIN, "resolution_bh_p90_s": 510 * MIN,  # [3600, 9000, 30600]
    "wait_median_s": 600, "wait_p90_s": 4800,  # [600, 600, 4800]
    # next response: only T2's customer wrote after a human reply (11:00, answered 11:30);
    # T4's bot message and T2's note answer nobody
    "nrt_median_s": 1800, "nrt_p90_s": 1800, "nrt_bh_median_s": 1800, "nrt_bh_p90_s": 1800,
    "sla_frt_met": 2, "sla_frt_breached": 2, "sla_frt_rate": 0.5,  # met T1 T2; late T3 T4
    "sla_res_met": 2, "sla_res_breached": 2, "sla_res_rate": 0.5,  # met T1 T2; late T3 T4
    "csat_sent": 3,  # T1 Mon, T2 Tue, T0 Tue (T3's is on Wednesday)
    "csat_answers": 2, "csat_positive": 1, "csat_rate": 0.5, "csat_mean": 3.5,  # 5 and 2
    "csat_response_rate": 2 / 3,
    "backlog": 2,  # at Jan 7 00:00: T3 (resolved Wed), T4
}
EXPECTED_DAYS: dict[str, dict[str, Any]] = {
    "2026-01-05": {"conversations": 5, "contained": 2, "tickets": 2, "frt_bh_median_s": 1800,
                   "frt_bh_p90_s": 2700, "sla_frt_met": 2, "sla_frt_breached": 0, "csat_answers": 1,
                   "csat_mean": 5.0, "backlog": 2},  # at Jan 6 00:00: T0 and T2
    "2026-01-06": {"conversations": 3, "contained": 0, "tickets": 2, "frt_bh_median_s": 5400,
                   "frt_bh_p90_s": 5400, "sla_frt_met": 0, "sla_frt_breached": 2, "csat_answers": 1,
                   "csat_mean": 2.0, "backlog": 2},  # T3, T4
}
# The answers of the period, newest first (T3's is on Wednesday, outside).
EXPECTED_ANSWERS = [("G-2", 2, "<b>Slow</b> to answer"), ("G-1", 5, "Fast and clear")]
EXPECTED_DISTRIBUTION = {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
# buckets <=15 min, <=30 min, <=1 h, <=2 h, <=4 h, <=8 h, more (business hours)
EXPECTED_FRT_BUCKETS = [0, 1, 1, 1, 0, 0, 0]  # 30 min, 45 min, 90 min
EXPECTED_RESOLUTION_BUCKETS = [0, 0, 1, 0, 1, 0, 1]  # 60 min, 150 min, 510 min
EXPECTED_QUEUES = {
    "L1": {"tickets": 3, "escalated": 0, "backlog": 1, "csat_sent": 3, "csat_answers": 2,
           "sla_frt_met": 2, "sla_frt_breached": 1},
    "L2": {"tickets": 1, "escalated": 1, "backlog": 1, "csat_sent": 0, "csat_answers": 0,
           "sla_frt_met": 0, "sla_frt_breached": 1},
}
EXPECTED_OPERATORS = {
    "olga": {"tickets": 2, "frt_median_s": 1800, "frt_p90_s": 5400, "fcr": 2},
    "paul": {"tickets": 1, "frt_median_s": 60300, "reopened": 1, "fcr": 0},
    "unassigned": {"tickets": 1, "frt_median_s": None, "backlog": 1},
}
EXPECTED_CHANNELS = {
    "email": {"conversations": 3, "handled": 2, "contained": 0, "containment_rate": 0.0, "tickets": 2},
    "webchat": {"conversations": 5, "contained": 2, "containment_rate": 2 / 5, "tickets": 2},
}


# ------------------------------------------------------------------ writing it
class Builder:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def conversation(self, who: str, channel: str, created: datetime) -> Conversation:
        customer = Customer(display_name=who, lang="en", created_at=created)
        self.s.add(customer)
        await self.s.flush()
        ident = IdentityRow(customer_id=customer.id, channel=channel, address=f"{who}-{created.isoformat()}",
                            display_name=who)
        self.s.add(ident)
        await self.s.flush()
        return await self.more(customer.id, ident.id, channel, created)

    async def more(self, customer_id: int, identity_id: int, channel: str, created: datetime) -> Conversation:
        conv = Conversation(customer_id=customer_id, identity_id=identity_id, channel=channel,
                            thread_key=f"t-{created.isoformat()}", state="bot", lang="en",
                            created_at=created, updated_at=created)
        self.s.add(conv)
        await self.s.flush()
        return conv

    async def msg(self, conv: Conversation, author: str, when: datetime, kind: str = "message",
                  author_id: int | None = None) -> None:
        self.s.add(Message(conversation_id=conv.id, channel=conv.channel, direction=(
            "in" if author == "customer" else "out"), author_kind=author, author_id=author_id, kind=kind,
            text=f"{author} at {when.isoformat()}", created_at=when))

    async def ticket(self, conv: Conversation, number: str, created: datetime, *, status: str,
                     queue: str = "L1", assignee: int | None = None, first: datetime | None = None,
                     resolved: datetime | None = None, escalated: datetime | None = None) -> Ticket:
        t = Ticket(number=number, conversation_id=conv.id, status=status, queue=queue, priority="P3",
                   subject=number, handoff_reason="explicit_request", assignee_id=assignee,
                   created_at=created, updated_at=created, first_response_at=first, resolved_at=resolved,
                   escalated_at=escalated, sla_policy="standard")
        self.s.add(t)
        await self.s.flush()
        self.event(t, created, "created", {}, {"status": "new", "queue": queue})
        return t

    def event(self, t: Ticket, when: datetime, kind: str, before: dict[str, Any],
              after: dict[str, Any]) -> None:
        self.s.add(TicketEvent(ticket_id=t.id, at=when, kind=kind, before=before, after=after, reason=""))

    def status(self, t: Ticket, when: datetime, frm: str, to: str) -> None:
        self.event(t, when, "status", {"status": frm}, {"status": to})

    def pause(self, t: Ticket, start: datetime, end: datetime | None, reason: str = "resolved") -> None:
        self.s.add(TicketPause(ticket_id=t.id, reason=reason, started_at=start, ended_at=end))

    def survey(self, t: Ticket, conv: Conversation, sent: datetime, answered: datetime | None = None,
               rating: int | None = None, comment: str = "") -> None:
        self.s.add(CsatSurvey(ticket_id=t.id, conversation_id=conv.id, channel=conv.channel,
                              token_hash=f"{t.id:064d}", lang="en", sent_at=sent,
                              expires_at=sent.replace(day=sent.day + 7), answered_at=answered,
                              rating=rating, comment=comment))


async def write_fixture(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Write the history above; returns the users' ids."""
    olga = await create_user(sessions, "olga", "correct horse battery", "operator", "Olga")
    paul = await create_user(sessions, "paul", "correct horse battery", "operator", "Paul")
    async with sessions() as session, session.begin():
        b = Builder(session)
        # C0 / T0: before the period
        c0 = await b.conversation("H", "webchat", at(4, 11))
        await b.msg(c0, "customer", at(4, 11))
        t0 = await b.ticket(c0, "G-0", at(4, 12), status="resolved", resolved=at(6, 12))
        b.status(t0, at(6, 12), "new", "resolved")
        b.pause(t0, at(6, 12), None)
        b.survey(t0, c0, at(6, 12, 0, 1))
        # C1: contained
        c1 = await b.conversation("A", "webchat", at(5, 9))
        await b.msg(c1, "customer", at(5, 9))
        await b.msg(c1, "bot", at(5, 9, 0, 5))
        # C2, C3: B comes back within 24 h, then not again
        c2 = await b.conversation("B", "webchat", at(5, 10))
        await b.msg(c2, "customer", at(5, 10))
        await b.msg(c2, "bot", at(5, 10, 0, 5))
        c3 = await b.more(c2.customer_id, c2.identity_id, "webchat", at(5, 20))
        await b.msg(c3, "customer", at(5, 20))
        await b.msg(c3, "bot", at(5, 20, 0, 5))
        # C4 / T1
        c4 = await b.conversation("D", "email", at(5, 9))
        await b.msg(c4, "customer", at(5, 9))
        t1 = await b.ticket(c4, "G-1", at(5, 9), status="resolved", assignee=olga.id, first=at(5, 9, 30),
                            resolved=at(5, 10))
        await b.msg(c4, "bot", at(5, 9, 0, 10))
        b.event(t1, at(5, 9, 10), "assign", {"assignee_id": None}, {"assignee_id": olga.id, "status": "open"})
        await b.msg(c4, "operator", at(5, 9, 30), author_id=olga.id)
        b.status(t1, at(5, 10), "open", "resolved")
        b.pause(t1, at(5, 10), None)
        await b.msg(c4, "system", at(5, 10, 0, 1))  # the survey question: not a reply
        b.survey(t1, c4, at(5, 10, 0, 1), at(5, 11), 5, "Fast and clear")
        # C5 / T2: reopened
        c5 = await b.conversation("E", "webchat", at(5, 16, 30))
        await b.msg(c5, "customer", at(5, 16, 30))
        t2 = await b.ticket(c5, "G-2", at(5, 16, 30), status="resolved", assignee=paul.id,
                            first=at(6, 9, 15), resolved=at(6, 12))
        b.event(t2, at(5, 16, 40), "assign", {"assignee_id": None},
                {"assignee_id": paul.id, "status": "open"})
        await b.msg(c5, "operator", at(6, 9, 15), author_id=paul.id)
        await b.msg(c5, "operator", at(6, 9, 16), kind="note", author_id=paul.id)
        b.status(t2, at(6, 10), "open", "resolved")
        b.pause(t2, at(6, 10), at(6, 11))
        b.survey(t2, c5, at(6, 10, 0, 1), at(6, 10, 30), 2, "<b>Slow</b> to answer")
        await b.msg(c5, "customer", at(6, 11))
        b.status(t2, at(6, 11), "resolved", "open")
        await b.msg(c5, "operator", at(6, 11, 30), author_id=paul.id)
        b.status(t2, at(6, 12), "open", "resolved")
        b.pause(t2, at(6, 12), None)
        # C6 / T3: late, escalated
        c6 = await b.conversation("F", "email", at(6, 9))
        await b.msg(c6, "customer", at(6, 9))
        t3 = await b.ticket(c6, "G-3", at(6, 9), status="resolved", queue="L2", assignee=olga.id,
                            first=at(6, 10, 30), resolved=at(7, 9, 30), escalated=at(6, 10, 30))
        b.event(t3, at(6, 10, 20), "assign", {"assignee_id": None},
                {"assignee_id": olga.id, "status": "open"})
        await b.msg(c6, "operator", at(6, 10, 30), author_id=olga.id)
        b.event(t3, at(6, 10, 30), "escalate", {"queue": "L1"}, {"queue": "L2"})
        b.status(t3, at(7, 9, 30), "open", "resolved")
        b.pause(t3, at(7, 9, 30), None)
        b.survey(t3, c6, at(7, 9, 30, 1), at(7, 10), 4)
        # C7 / T4: never answered by a person
        c7 = await b.conversation("G", "webchat", at(6, 16))
        await b.msg(c7, "customer", at(6, 16))
        await b.ticket(c7, "G-4", at(6, 16), status="new")
        await b.msg(c7, "bot", at(6, 16, 5))
        # C8: an auto-reply the bot rightly left alone
        c8 = await b.conversation("K", "email", at(6, 18))
        await b.msg(c8, "customer", at(6, 18))
        # C9 / T5: D writes again in a new thread; an operator merges it into T1 (a duplicate)
        c9 = await b.more(c4.customer_id, c4.identity_id, "email", at(6, 8))
        t5 = await b.ticket(c9, "G-5", at(6, 8), status="closed", resolved=at(6, 8, 30))
        t5.closed_at = at(6, 8, 30)
        b.status(t5, at(6, 8, 30), "new", "closed")
        session.add(TicketMerge(source_ticket_id=t5.id, target_ticket_id=t1.id, source_conversation_id=c9.id,
                                target_conversation_id=c4.id, moved_messages=0, forced=False, reason="",
                                created_at=at(6, 8, 30)))
    return {"olga": olga.id, "paul": paul.id}
