"""Business calendars: when the SLA clock runs.

A calendar has a time zone, any number of opening intervals per weekday (``09:00-12:30``
and ``13:30-18:00``; ``00:00-24:00`` for a whole day), public holidays from the
``holidays`` package (a country and optional subdivision) plus explicit closed dates.
Intervals are wall-clock times in the calendar's zone, so a DST change keeps the desk
opening at 09:00 local time (that day simply has one hour more or less of UTC time
when an interval spans the change).

The arithmetic works on UTC instants: :meth:`BusinessCalendar.add` moves forward by an
amount of business time, :meth:`BusinessCalendar.elapsed` measures the business time
between two instants.  Both take *pauses* (UTC stretches, the last possibly open-ended)
during which the clock does not run either.  ``elapsed(a, add(a, d)) == d`` for every
``d >= 0``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DAYS = 4 * 366  # a deadline further than this is a configuration error
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Pause = tuple[datetime, datetime | None]  # (start, end); end None: still paused
Span = tuple[time, time | None]  # local start, local end (None: midnight at the day's end)


class CalendarError(ValueError):
    """A calendar definition is invalid; the message says which part."""


def parse_interval(text: str) -> Span:
    """``"09:00-12:30"`` -> (09:00, 12:30); ``"13:00-24:00"`` ends at midnight."""
    m = _INTERVAL.match(text)
    if not m:
        raise CalendarError(f"interval {text!r}: expected HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise CalendarError(f"interval {text!r}: not a time of day")
    start = time(h1, m1)
    end = None if h2 == 24 else time(h2, m2)
    if end is not None and end <= start:
        raise CalendarError(f"interval {text!r}: ends before it starts")
    return start, end


def _minutes(t: time | None) -> int:
    return 24 * 60 if t is None else t.hour * 60 + t.minute


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    timezone: str = "UTC"
    week: tuple[tuple[Span, ...], ...] = ((),) * 7  # Monday first
    holiday_country: str = ""
    holiday_subdiv: str = ""
    closed_dates: frozenset[date] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _holidays: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_tz", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"calendar {self.name}: unknown time zone {self.timezone!r}") from exc
        if len(self.week) != 7:
            raise CalendarError(f"calendar {self.name}: the week needs 7 days")
        for day, spans in zip(WEEKDAYS, self.week, strict=True):
            ordered = sorted(spans, key=lambda s: s[0])
            for (_, end), (start, _) in itertools.pairwise(ordered):
                if end is None or _minutes(end) > _minutes(start):
                    raise CalendarError(f"calendar {self.name}: {day} has overlapping intervals")
        if not any(self.week):
            raise CalendarError(f"calendar {self.name}: no business hours at all")
        table = None
        if self.holiday_country:
            try:
                table = holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdiv or None)
            except (NotImplementedError, KeyError) as exc:
                raise CalendarError(
                    f"calendar {self.name}: unknown holiday country/subdivision "
                    f"{self.holiday_country!r}/{self.holiday_subdiv!r}"
                ) from exc
        object.__setattr__(self, "_holidays", table)

    # ------------------------------------------------------------ building
    @classmethod
    def from_mapping(cls, name: str, data: dict[str, Any]) -> BusinessCalendar:
        """From the policy file's ``[calendars.NAME]`` table."""
        known = {"timezone", "holidays_country", "holidays_subdiv", "closed_dates", *WEEKDAYS}
        unknown = set(data) - known
        if unknown:
            raise CalendarError(f"calendar {name}: unknown keys {sorted(unknown)}")
        week = []
        for day in WEEKDAYS:
            raw = data.get(day, [])
            if isinstance(raw, str):
                raw = [raw]
            if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                raise CalendarError(f"calendar {name}: {day} must be a list of 'HH:MM-HH:MM'")
            week.append(tuple(sorted((parse_interval(x) for x in raw), key=lambda s: s[0])))
        closed = set()
        for raw_date in data.get("closed_dates", []):
            try:
                closed.add(raw_date if isinstance(raw_date, date) else date.fromisoformat(str(raw_date)))
            except ValueError as exc:
                raise CalendarError(f"calendar {name}: closed date {raw_date!r} is not YYYY-MM-DD") from exc
        return cls(
            name=name,
            timezone=str(data.get("timezone", "UTC")),
            week=tuple(week),
            holiday_country=str(data.get("holidays_country", "")),
            holiday_subdiv=str(data.get("holidays_subdiv", "")),
            closed_dates=frozenset(closed),
        )

    @classmethod
    def always(cls, name: str = "24x7", timezone: str = "UTC") -> BusinessCalendar:
        whole_day: tuple[Span, ...] = ((time(0), None),)
        return cls(name=name, timezone=timezone, week=(whole_day,) * 7)

    # ------------------------------------------------------------- queries
    def is_holiday(self, day: date) -> bool:
        return day in self.closed_dates or (self._holidays is not None and day in self._holidays)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The business intervals of one local date, as UTC instants."""
        if self.is_holiday(day):
            return []
        out = []
        for start, end in self.week[day.weekday()]:
            a = datetime.combine(day, start, self._tz).astimezone(UTC)
            b_local = (
                datetime.combine(day + timedelta(days=1), time(0), self._tz)
                if end is None
                else datetime.combine(day, end, self._tz)
            )
            b = b_local.astimezone(UTC)
            if b > a:
                out.append((a, b))
        return out

    def intervals(self, start: datetime, pauses: Sequence[Pause] = ()) -> Iterator[tuple[datetime, datetime]]:
        """Business time from ``start`` on, minus the pauses, as UTC intervals in order.
        Stops at an open-ended pause, and after :data:`MAX_DAYS`."""
        start = _utc(start)
        merged = merge_pauses(pauses)
        day = start.astimezone(self._tz).date()
        for _ in range(MAX_DAYS):
            for a, b in self.day_intervals(day):
                if b <= start:
                    continue
                yield from _subtract(max(a, start), b, merged)
                if merged and merged[-1][1] is None and b >= merged[-1][0]:
                    return
            day += timedelta(days=1)

    def is_open(self, at: datetime, pauses: Sequence[Pause] = ()) -> bool:
        at = _utc(at)
        for a, _ in self.intervals(at, pauses):
            return a == at
        return False

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` if the calendar is open then, else the start of the next interval."""
        for a, _ in self.intervals(at):
            return a
        return None

    def add(self, start: datetime, amount: timedelta, pauses: Sequence[Pause] = ()) -> datetime | None:
        """The instant at which ``amount`` of business time has run from ``start``;
        None when the clock is stopped by an open-ended pause before that."""
        start = _utc(start)
        if amount <= timedelta(0):
            return start
        left = amount
        for a, b in self.intervals(start, pauses):
            if left <= b - a:
                return a + left
            left -= b - a
        if pauses and merge_pauses(pauses)[-1][1] is None:
            return None
        raise CalendarError(f"calendar {self.name}: no business time within {MAX_DAYS} days")

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Business time between two instants (0 if ``end`` is not after ``start``)."""
        start, end = _utc(start), _utc(end)
        total = timedelta(0)
        if end <= start:
            return total
        for a, b in self.intervals(start, pauses):
            if a >= end:
                break
            total += min(b, end) - a
        return total


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Sorted, overlapping ones merged; an open-ended pause swallows what follows."""
    out: list[Pause] = []
    for start, end in sorted(((_utc(s), _utc(e) if e else None) for s, e in pauses), key=lambda p: p[0]):
        if end is not None and end <= start:
            continue
        if out and (out[-1][1] is None or start <= out[-1][1]):
            last_start, last_end = out[-1]
            if last_end is None or end is None:
                out[-1] = (last_start, None)
            else:
                out[-1] = (last_start, max(last_end, end))
            continue
        out.append((start, end))
    return out


def _subtract(a: datetime, b: datetime, pauses: Sequence[Pause]) -> Iterator[tuple[datetime, datetime]]:
    cur = a
    for ps, pe in pauses:
        if pe is not None and pe <= cur:
            continue
        if ps >= b:
            break
        if ps > cur:
            yield cur, ps
        if pe is None:
            return
        cur = max(cur, pe)
        if cur >= b:
            return
    if cur < b:
        yield cur, b


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a business calendar")
    return value.astimezone(UTC)
