"""The period a report covers: ``from`` included, ``to`` excluded, in UTC, with the
time zone its days are counted in.  A bare date is a day of that zone: ``from`` its
first instant, ``to`` the first instant of the next day (the day is included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import InvalidInputError

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # UTC, included
    end: datetime  # UTC, excluded
    tz: ZoneInfo

    def contains(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def day_of(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def days(self) -> Iterator[date]:
        """Every day of the zone that the period touches, in order."""
        day = self.day_of(self.start)
        last = self.day_of(self.end - timedelta(microseconds=1))
        while day <= last:
            yield day
            day += timedelta(days=1)

    def day_end(self, day: date) -> datetime:
        """The first instant after ``day`` (UTC), never past the period's end."""
        nxt = datetime.combine(day + timedelta(days=1), time(0), self.tz).astimezone(UTC)
        return min(nxt, self.end)

    def to_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "timezone": str(self.tz)}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"unknown time zone {name!r}") from exc


def _instant(raw: str, tz: ZoneInfo, *, end: bool) -> datetime:
    raw = raw.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), tz).astimezone(UTC)
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return (at if at.tzinfo else at.replace(tzinfo=tz)).astimezone(UTC)
    except (ValueError, OverflowError):
        which = "to" if end else "from"
        raise InvalidInputError(f'"{which}" must be a date (YYYY-MM-DD) or an ISO date-time') from None


def parse_period(raw_from: str | None, raw_to: str | None, *, timezone: str, default_days: int,
                 now: datetime) -> Period:
    """The period from the query's ``from`` / ``to``; by default the last
    ``default_days`` days up to the end of today."""
    tz = zone(timezone)
    if raw_to:
        end = _instant(raw_to, tz, end=True)
    else:
        end = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tz).astimezone(UTC)
    if raw_from:
        start = _instant(raw_from, tz, end=False)
    else:
        start_day = end.astimezone(tz).date() - timedelta(days=max(1, default_days))
        start = datetime.combine(start_day, time(0), tz).astimezone(UTC)
    if start >= end:
        raise InvalidInputError('"from" must be before "to"')
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInputError(f"a report covers at most {MAX_DAYS} days")
    return Period(start, end, tz)
