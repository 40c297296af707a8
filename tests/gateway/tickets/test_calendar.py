"""Business-calendar arithmetic: several intervals a day, holidays (package and explicit
dates), time zones, DST changes, pauses; checked against sums done by hand and, with
hypothesis, as properties (adding business time then measuring it back gives the same
duration)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.tickets.calendar import BusinessCalendar, CalendarError, merge_pauses

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def office(tz: str = "Europe/Paris", **extra: object) -> BusinessCalendar:
    """Mon-Fri 09:00-12:00 and 13:00-17:00 (two intervals a day)."""
    spec: dict[str, object] = {"timezone": tz, **{d: ["09:00-12:00", "13:00-17:00"] for d in WEEKDAYS}}
    spec.update(extra)
    return BusinessCalendar.from_mapping("office", spec)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def test_two_intervals_a_day_skip_the_lunch_break() -> None:
    # Chatwoot #14009: one interval a day only.  Monday 2026-01-05, 10:00 Paris.
    cal = office()
    due = cal.add(paris(2026, 1, 5, 10, 0), h(4))
    assert due == paris(2026, 1, 5, 15, 0)  # 10-12 (2 h), lunch, 13-15 (2 h)
    assert cal.elapsed(paris(2026, 1, 5, 11, 0), paris(2026, 1, 5, 14, 0)) == h(2)
    assert not cal.is_open(paris(2026, 1, 5, 12, 30))
    assert cal.is_open(paris(2026, 1, 5, 13, 0))
    assert cal.next_open(paris(2026, 1, 5, 12, 30)) == paris(2026, 1, 5, 13, 0)


def test_a_deadline_runs_over_the_weekend_to_monday() -> None:
    cal = office()
    friday_4pm = paris(2026, 1, 9, 16, 0)
    assert cal.add(friday_4pm, h(2)) == paris(2026, 1, 12, 10, 0)
    assert cal.elapsed(friday_4pm, paris(2026, 1, 12, 10, 0)) == h(2)


def test_public_holidays_from_the_package_are_skipped() -> None:
    # Chatwoot #6467: SLA ignoring holidays.  1 May 2026 is a Friday, a holiday in France.
    cal = office(holidays_country="FR")
    assert cal.is_holiday(date(2026, 5, 1))
    assert cal.add(paris(2026, 4, 30, 16, 0), h(2)) == paris(2026, 5, 4, 10, 0)
    no_holidays = office()
    assert no_holidays.add(paris(2026, 4, 30, 16, 0), h(2)) == paris(2026, 5, 1, 10, 0)


def test_regional_holidays_and_explicit_closed_dates() -> None:
    # Good Friday is a holiday in Alsace-Moselle (subdivision 57) only.
    moselle = office(holidays_country="FR", holidays_subdiv="57")
    assert moselle.is_holiday(date(2026, 4, 3))
    assert not office(holidays_country="FR").is_holiday(date(2026, 4, 3))
    closed = office(closed_dates=["2026-01-06"])
    assert closed.add(paris(2026, 1, 5, 16, 0), h(2)) == paris(2026, 1, 7, 10, 0)


def test_time_zone_of_the_calendar_decides_the_hours() -> None:
    ny = office("America/New_York")
    start = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)  # 08:00 in New York, 14:00 in Paris
    assert ny.add(start, h(1)) == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # opens 09:00 EST = 14:00 UTC
    assert office().add(start, h(1)) == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def test_dst_spring_forward_keeps_local_opening_hours() -> None:
    # Europe/Paris goes from UTC+1 to UTC+2 on Sunday 2026-03-29.
    cal = office()
    friday = paris(2026, 3, 27, 16, 0)  # 15:00 UTC
    monday_10 = paris(2026, 3, 30, 10, 0)  # 08:00 UTC
    assert friday == datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    assert monday_10 == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert cal.add(friday, h(2)) == monday_10
    # A 24x7 calendar in Paris: the local Sunday of the change has 23 hours.
    always = BusinessCalendar.always(timezone="Europe/Paris")
    day_start, next_day = paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0)
    assert always.elapsed(day_start, next_day) == h(23)
    # An interval spanning the change (Sunday 00:00-06:00) lasts 5 real hours.
    night = BusinessCalendar.from_mapping("night", {"timezone": "Europe/Paris", "sunday": ["00:00-06:00"]})
    assert night.elapsed(day_start, next_day) == h(5)


def test_dst_fall_back_day_has_25_hours() -> None:
    always = BusinessCalendar.always(timezone="Europe/Paris")
    assert always.elapsed(paris(2026, 10, 25, 0, 0), paris(2026, 10, 26, 0, 0)) == h(25)
    cal = office()
    assert cal.add(paris(2026, 10, 23, 16, 0), h(2)) == paris(2026, 10, 26, 10, 0)


def test_pauses_stop_the_clock() -> None:
    # osTicket #3034: the clock must pause while waiting on the customer.
    cal = office()
    start = paris(2026, 1, 5, 9, 0)
    pause = (paris(2026, 1, 5, 10, 0), paris(2026, 1, 5, 14, 0))
    assert cal.add(start, h(3), [pause]) == paris(2026, 1, 5, 16, 0)  # 9-10, then 14-16
    assert cal.elapsed(start, paris(2026, 1, 5, 16, 0), [pause]) == h(3)
    # A pause still running: no deadline can be given yet.
    assert cal.add(start, h(3), [(paris(2026, 1, 5, 10, 0), None)]) is None
    assert cal.elapsed(start, paris(2026, 1, 7, 10, 0), [(paris(2026, 1, 5, 10, 0), None)]) == h(1)
    # A pause entirely outside business hours changes nothing.
    night = (paris(2026, 1, 5, 20, 0), paris(2026, 1, 6, 8, 0))
    assert cal.add(start, h(9), [night]) == paris(2026, 1, 6, 11, 0)


def test_merge_pauses() -> None:
    a, b, c, d = (paris(2026, 1, 5, x, 0) for x in (9, 10, 11, 12))
    assert merge_pauses([(c, d), (a, c), (b, None)]) == [(a, None)]
    assert merge_pauses([(a, b), (c, d)]) == [(a, b), (c, d)]
    assert merge_pauses([(b, a)]) == []


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"timezone": "Mars/Olympus", "monday": ["09:00-17:00"]}, "time zone"),
        ({"monday": ["09:00-12:00", "11:00-14:00"]}, "overlapping"),
        ({"monday": ["17:00-09:00"]}, "ends before"),
        ({"monday": ["9h-17h"]}, "HH:MM"),
        ({}, "no business hours"),
        ({"monday": ["09:00-17:00"], "holidays_country": "XX"}, "holiday"),
        ({"monday": ["09:00-17:00"], "closed_dates": ["tomorrow"]}, "YYYY-MM-DD"),
        ({"mondays": ["09:00-17:00"]}, "unknown keys"),
    ],
)
def test_invalid_calendars_are_refused_with_a_reason(spec: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar.from_mapping("bad", spec)


# ------------------------------------------------------------- properties

CALENDARS = [
    office(holidays_country="FR"),
    office("America/New_York", closed_dates=["2026-03-09"]),
    BusinessCalendar.always(timezone="Europe/Paris"),
    BusinessCalendar.from_mapping(
        "split", {"timezone": "Australia/Lord_Howe", "saturday": ["00:00-01:30", "22:00-24:00"],
                  "wednesday": ["02:00-03:00"]},
    ),
]
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=120))
pause_lists = st.lists(
    st.tuples(instants, st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3))),
    max_size=3,
).map(lambda ps: [(s, s + d) for s, d in ps])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CALENDARS), instants, amounts, pause_lists)
def test_adding_then_measuring_gives_back_the_amount(
    cal: BusinessCalendar, start: datetime, amount: timedelta, pauses: list[tuple[datetime, datetime]]
) -> None:
    due = cal.add(start, amount, pauses)
    assert due is not None and due >= start
    assert cal.elapsed(start, due, pauses) == amount
    if amount > timedelta(0):  # the deadline falls on business time, never in a pause or a night
        assert cal.elapsed(start, due - timedelta(microseconds=1), pauses) < amount


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CALENDARS), instants, amounts, amounts)
def test_business_time_adds_up(cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta) -> None:
    mid = cal.add(start, d1)
    assert mid is not None
    assert cal.add(mid, d2) == cal.add(start, d1 + d2) or d2 == timedelta(0)
    end = start + d1 + d2
    assert cal.elapsed(start, end) == cal.elapsed(start, start + d1) + cal.elapsed(start + d1, end)
