"""SLA on the store with a controllable clock: priorities from frustration, the first
response stopped by a human reply only, next response, pauses, warnings and breaches
recorded once, breach actions, notifications only within business hours, holidays."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gateway.tickets.sweeper import sweep_once
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> str:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC).isoformat()  # type: ignore[misc]


async def sla(desk: Desk, ticket_id: int) -> dict:  # type: ignore[type-arg]
    return (await desk.desk.detail(ticket_id))["sla"]


async def test_new_ticket_gets_priority_policy_and_business_hours_deadline(desk: Desk) -> None:
    # Monday 5 January 2026, 10:00 Paris.  P3 first response 60 business minutes.
    ticket = await desk.handoff()
    await sweep_once(desk.store)  # the core's hook is not wired: the sweeper initialises
    detail = await desk.desk.detail(ticket.id)
    assert detail["ticket"]["priority"] == "P3" and detail["ticket"]["sla_policy"] == "standard"
    assert detail["sla"]["clocks"]["first_response"]["due_at"] == paris(2026, 1, 5, 11, 0)
    # 16 business hours: Monday 10-12 and 13-17, Tuesday 7 h, Wednesday 9-12.
    assert detail["sla"]["clocks"]["resolution"]["due_at"] == paris(2026, 1, 7, 12, 0)
    assert detail["ticket"]["sla_due"] == paris(2026, 1, 5, 11, 0)
    assert detail["history"][0]["kind"] == "created"


async def test_frustration_raises_the_priority(desk: Desk) -> None:
    ticket = await desk.handoff(text="THIS BOT IS USELESS, GIVE ME A HUMAN NOW")
    await sweep_once(desk.store)
    detail = await desk.desk.detail(ticket.id)
    assert detail["ticket"]["priority"] == "P2"
    assert "frustration" in detail["history"][0]["reason"]
    assert detail["sla"]["clocks"]["first_response"]["due_at"] == paris(2026, 1, 5, 10, 30)


async def test_only_a_human_reply_stops_the_first_response_clock(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()  # the bot already told the customer the ticket number
    desk.clock.advance(minutes=10)
    await desk.operators.add_note(ticket.conversation_id, olga, "looking into it")
    await desk.operators.take_over(ticket.id, olga)
    await desk.desk.set_priority(ticket.id, olga, urgency="low", impact="medium")
    first = (await sla(desk, ticket.id))["clocks"]["first_response"]
    assert first["met_at"] is None and first["state"] == "running"
    desk.clock.advance(minutes=10)
    await desk.operators.reply(ticket.conversation_id, olga, "Hello, I am on it.")
    first = (await sla(desk, ticket.id))["clocks"]["first_response"]
    assert first["state"] == "met" and first["met_at"] == paris(2026, 1, 5, 10, 20)
    # Later replies and updates never move the first response (Zammad #5177).
    desk.clock.advance(minutes=30)
    await desk.operators.reply(ticket.conversation_id, olga, "Any news on your side?")
    await desk.desk.set_priority(ticket.id, olga, value="P1", reason="VIP")
    first = (await sla(desk, ticket.id))["clocks"]["first_response"]
    assert first["met_at"] == paris(2026, 1, 5, 10, 20)


async def test_next_response_clock_runs_from_the_customer_message(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.operators.reply(ticket.conversation_id, olga, "Hello, what is your order number?")
    desk.clock.advance(minutes=30)
    await desk.write("It is 12345")
    status = await sla(desk, ticket.id)
    nxt = status["clocks"]["next_response"]
    assert nxt["started_at"] == paris(2026, 1, 5, 10, 30)
    assert nxt["due_at"] == paris(2026, 1, 5, 13, 30)  # 120 min: 10:30-12:00, lunch, 13:00-13:30
    await desk.operators.reply(ticket.conversation_id, olga, "Thanks, checking.")
    assert "next_response" not in (await sla(desk, ticket.id))["clocks"]


async def test_pending_customer_pauses_and_the_deadline_moves(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.operators.reply(ticket.conversation_id, olga, "Could you send a screenshot?")
    before = (await sla(desk, ticket.id))["clocks"]["resolution"]["due_at"]
    assert before == paris(2026, 1, 7, 12, 0)
    await desk.desk.set_status(ticket.id, "pending_customer", olga, reason="screenshot")
    desk.clock.advance(hours=24)  # Tuesday 10:00 Paris: 7 business hours paused
    paused = await sla(desk, ticket.id)
    assert paused["paused"] and paused["clocks"]["resolution"]["due_at"] is None
    assert paused["clocks"]["resolution"]["state"] == "paused"
    await desk.desk.set_status(ticket.id, "open", olga)
    after = (await sla(desk, ticket.id))["clocks"]["resolution"]["due_at"]
    assert after == paris(2026, 1, 8, 12, 0)  # one business day (7 h) later


async def test_breach_at_night_acts_at_once_but_notifies_in_the_morning(desk: Desk, olga: UserView) -> None:
    # Zammad #2157: escalation mails at 2 a.m.
    ticket = await desk.handoff()  # first response due Monday 11:00 Paris
    await sweep_once(desk.store)
    desk.clock.advance(hours=16)  # Tuesday 02:00 Paris
    desk.events.clear()
    report = await sweep_once(desk.store)
    assert ("first_response" in [a[1] for a in report.alerts]) and report.notified == []
    assert not [t for t in desk.topics() if t.startswith("sla.")]
    detail = await desk.desk.detail(ticket.id)
    assert detail["ticket"]["priority"] == "P2" and detail["ticket"]["queue"] == "L2"
    assert detail["ticket"]["escalated_at"] is not None
    kinds = [e["kind"] for e in detail["history"]]
    assert "sla_breach" in kinds and "escalate" in kinds
    # A second night sweep records nothing new: no second raise, no second escalation.
    desk.clock.advance(hours=1)
    report = await sweep_once(desk.store)
    assert not [a for a in report.alerts if a[1] == "first_response"]
    assert (await desk.desk.detail(ticket.id))["ticket"]["priority"] == "P2"
    # 09:00 Paris: the office opens, the waiting alert is told.
    desk.clock.advance(hours=6)
    desk.events.clear()
    report = await sweep_once(desk.store)
    assert (ticket.number, "first_response", "breach") in report.notified
    breach = [e for e in desk.events if e.topic == "sla.breach"]
    assert breach and breach[0].data["ticket_id"] == ticket.id and breach[0].data["queue"] == "L2"


async def test_warning_at_the_configured_share_within_business_hours(desk: Desk) -> None:
    ticket = await desk.handoff()  # due 11:00 Paris, warning at 80 %: 10:48
    desk.clock.advance(minutes=47)
    assert (await sweep_once(desk.store)).alerts == []
    desk.clock.advance(minutes=2)
    desk.events.clear()
    report = await sweep_once(desk.store)
    assert report.alerts == [(ticket.number, "first_response", "warning")]
    assert [e.topic for e in desk.events if e.topic.startswith("sla.")] == ["sla.warning"]
    assert (await sweep_once(desk.store)).alerts == []  # recorded once


async def test_deadlines_do_not_drift_across_sweeps(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.operators.reply(ticket.conversation_id, olga, "On it")
    dues = []
    for _ in range(5):
        desk.clock.advance(minutes=7)
        await sweep_once(desk.store)
        dues.append((await desk.desk.detail(ticket.id))["ticket"]["resolution_due"])
    assert len(set(dues)) == 1


async def test_complaints_have_their_own_policy(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.desk.set_category(ticket.id, olga, "Complaint")
    detail = await desk.desk.detail(ticket.id)
    assert detail["ticket"]["sla_policy"] == "complaints"
    assert detail["sla"]["clocks"]["first_response"]["due_at"] == paris(2026, 1, 5, 10, 10)


async def test_holidays_push_the_deadline(desk: Desk) -> None:
    # Chatwoot #6467.  Thursday 30 April 2026 16:30 Paris; 1 May is a holiday.
    desk.clock._now = datetime(2026, 4, 30, 16, 30, tzinfo=PARIS).astimezone(UTC)
    ticket = await desk.handoff()
    await sweep_once(desk.store)
    status = await sla(desk, ticket.id)
    assert status["clocks"]["first_response"]["due_at"] == paris(2026, 5, 4, 9, 30)
