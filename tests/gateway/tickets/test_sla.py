"""SLA clocks from recorded history (pure): business hours with two intervals a day,
pauses, warnings, breaches, next response, priority changes without drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.tickets.calendar import BusinessCalendar
from gateway.tickets.policies import PolicyError, SlaPolicy, parse_policies
from gateway.tickets.sla import BREACHED, MET, PAUSED, RUNNING, WARNING, SlaHistory, compute

PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessCalendar.from_mapping(
    "office",
    {"timezone": "Europe/Paris", **{d: ["09:00-12:00", "13:00-17:00"]
                                    for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
     "holidays_country": "FR"},
)
POLICY = SlaPolicy(
    "std", "office",
    {"first_response": {"P1": 30, "P3": 120}, "next_response": {"P1": 60, "P3": 240},
     "resolution": {"P1": 240, "P3": 960}},
)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


MONDAY_11 = paris(2026, 1, 5, 11, 0)


def status(history: SlaHistory, now: datetime, priority: str = "P3", share: float = 0.8):  # type: ignore[no-untyped-def]
    return compute(POLICY, OFFICE, priority, history, now, share)


def test_first_response_due_skips_lunch_and_warns_at_the_share() -> None:
    s = status(SlaHistory(MONDAY_11), paris(2026, 1, 5, 11, 30))
    first = s.clock("first_response")
    assert first is not None and first.state == RUNNING
    assert first.due_at == paris(2026, 1, 5, 14, 0)  # 11-12, lunch, 13-14
    assert first.warn_at == paris(2026, 1, 5, 13, 36)  # 80 % of 120 min = 96 min
    assert first.remaining == timedelta(minutes=90)
    assert status(SlaHistory(MONDAY_11), paris(2026, 1, 5, 13, 40)).clock("first_response").state == WARNING  # type: ignore[union-attr]
    # During lunch the countdown stands still.
    lunch = status(SlaHistory(MONDAY_11), paris(2026, 1, 5, 12, 45)).clock("first_response")
    assert lunch is not None and lunch.remaining == timedelta(minutes=60)
    breached = status(SlaHistory(MONDAY_11), paris(2026, 1, 5, 14, 0)).clock("first_response")
    assert breached is not None and breached.state == BREACHED and breached.breached
    assert s.due == paris(2026, 1, 5, 14, 0)  # the earliest running deadline


def test_first_response_met_stays_met_and_is_not_moved_by_later_updates() -> None:
    # Zammad #5177: the update time must not override the first response.
    replied = paris(2026, 1, 5, 13, 30)
    history = SlaHistory(MONDAY_11, first_response_at=replied)
    later = status(history, paris(2026, 1, 7, 10, 0)).clock("first_response")
    assert later is not None and later.state == MET and later.met_at == replied and not later.breached
    late = status(SlaHistory(MONDAY_11, first_response_at=paris(2026, 1, 5, 15, 0)), paris(2026, 1, 6, 9, 0))
    assert late.clock("first_response").state == BREACHED  # type: ignore[union-attr]


def test_pending_customer_pauses_the_resolution_clock() -> None:
    # osTicket #3034.  Resolution: 960 business minutes = 16 h; office days have 7 h:
    # Monday 11-12 and 13-17 (5 h), Tuesday (7 h), Wednesday 9-12 and 13-14 (4 h).
    plain = status(SlaHistory(MONDAY_11, first_response_at=MONDAY_11), MONDAY_11)
    assert plain.clock("resolution").due_at == paris(2026, 1, 7, 14, 0)  # type: ignore[union-attr]
    pause = (paris(2026, 1, 5, 14, 0), paris(2026, 1, 6, 10, 0))  # 3 h Monday + 1 h Tuesday
    paused_history = SlaHistory(MONDAY_11, first_response_at=MONDAY_11, pauses=(pause,))
    resolution = status(paused_history, paris(2026, 1, 6, 11, 0)).clock("resolution")
    # 4 business hours later: Wednesday 14-17, Thursday 9-10.
    assert resolution is not None and resolution.due_at == paris(2026, 1, 8, 10, 0)
    # While still pending: no deadline, the countdown frozen.
    still_pending = ((paris(2026, 1, 5, 14, 0), None),)
    open_pause = SlaHistory(MONDAY_11, first_response_at=MONDAY_11, pauses=still_pending)
    frozen = status(open_pause, paris(2026, 1, 9, 16, 0))
    clock = frozen.clock("resolution")
    assert clock is not None and clock.state == PAUSED and clock.due_at is None
    assert clock.remaining == timedelta(minutes=960 - 120)  # 11-12 and 13-14 ran
    assert frozen.paused and frozen.due is None


def test_a_pause_after_a_breach_keeps_it_breached() -> None:
    history = SlaHistory(MONDAY_11, pauses=((paris(2026, 1, 5, 16, 0), None),))
    first = status(history, paris(2026, 1, 6, 9, 0)).clock("first_response")
    assert first is not None and first.state == BREACHED


def test_priority_change_recomputes_from_creation_without_drift() -> None:
    history = SlaHistory(MONDAY_11)
    p3 = status(history, paris(2026, 1, 5, 11, 10), "P3").clock("first_response")
    p1 = status(history, paris(2026, 1, 5, 11, 10), "P1").clock("first_response")
    assert p3 is not None and p1 is not None
    assert p3.due_at == paris(2026, 1, 5, 14, 0) and p1.due_at == paris(2026, 1, 5, 11, 30)
    # Computing again later gives the very same deadline.
    again = status(history, paris(2026, 1, 5, 11, 25), "P1").clock("first_response")
    assert again is not None and again.due_at == p1.due_at


def test_next_response_runs_from_the_customer_message_after_a_human_reply() -> None:
    history = SlaHistory(MONDAY_11, first_response_at=paris(2026, 1, 5, 11, 20),
                         awaiting_since=paris(2026, 1, 5, 16, 30))
    nxt = status(history, paris(2026, 1, 5, 16, 45)).clock("next_response")
    # 240 min: Monday 16:30-17:00, Tuesday 9-12 and 13:00-13:30.
    assert nxt is not None and nxt.due_at == paris(2026, 1, 6, 13, 30)
    # No next-response clock before a first response, nor while resolved.
    assert status(SlaHistory(MONDAY_11, awaiting_since=MONDAY_11), MONDAY_11).clock("next_response") is None
    resolved = SlaHistory(MONDAY_11, first_response_at=MONDAY_11, awaiting_since=MONDAY_11,
                          resolved_at=paris(2026, 1, 5, 12, 0))
    assert status(resolved, paris(2026, 1, 6, 9, 0)).clock("next_response") is None
    assert status(resolved, paris(2026, 1, 6, 9, 0)).clock("resolution").state == MET  # type: ignore[union-attr]


def test_holiday_moves_the_deadline() -> None:
    # Chatwoot #6467: Thursday 30 April 2026 16:00, Friday 1 May is a holiday.
    history = SlaHistory(paris(2026, 4, 30, 16, 0))
    first = status(history, paris(2026, 4, 30, 16, 0)).clock("first_response")
    assert first is not None and first.due_at == paris(2026, 5, 4, 10, 0)


def test_policy_precedence_and_conditions() -> None:
    policies = parse_policies({
        "calendars": {"office": {"timezone": "Europe/Paris", "monday": ["09:00-17:00"]}},
        "sla": [
            {"name": "default", "resolution": {"P3": 600}},
            {"name": "gold", "tier": "gold", "precedence": 5, "calendar": "office",
             "first_response": {"P3": 10}},
            {"name": "complaints", "category": "complaint", "precedence": 10,
             "first_response": {"P3": 20}, "on_breach": ["notify", "escalate"]},
        ],
    })
    assert policies.choose({"tier": "gold", "category": "complaint"}).name == "complaints"
    assert policies.choose({"tier": "gold"}).name == "gold"
    assert policies.choose({"queue": "L1"}).name == "default"
    assert policies.by_name("gold").calendar == "office"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sla": [{"calendar": "nowhere"}]}, "unknown calendar"),
        ({"sla": [{"first_response": {"P9": 10}}]}, "unknown priority"),
        ({"sla": [{"first_response": {"P1": -5}}]}, "positive"),
        ({"sla": [{"on_breach": ["explode"]}]}, "on_breach"),
        ({"sla": [{"warn_share": 1.5}]}, "warn_share"),
        ({"matrix": {"high": {"high": "P1"}}}, "matrix"),
        ({"calendars": {"x": {"monday": ["25:00-26:00"]}}}, "not a time"),
        ({"colours": {}}, "unknown sections"),
        ({"sla": [{"name": "a"}, {"name": "a"}]}, "same name"),
    ],
)
def test_bad_policy_files_are_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policies(data)


def test_the_example_policy_file_loads() -> None:
    from pathlib import Path

    from gateway.config import TicketSettings
    from gateway.tickets.policies import load_policies

    example = Path(__file__).resolve().parents[3] / "examples" / "tickets-policy.toml"
    policies = load_policies(TicketSettings(policy_file=str(example)))
    assert [p.name for p in policies.policies] == ["complaints", "gold customers", "standard"]
    assert policies.choose({"category": "complaint", "tier": "gold"}).name == "complaints"
