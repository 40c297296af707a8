"""The KPIs of a small history whose figures were computed by hand (fixture.py), on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.errors import InvalidInputError
from gateway.reports.csv import report_csv
from gateway.reports.kpis import kpi_report, percentile
from gateway.reports.period import parse_period
from tests.gateway.reports.fixture import (
    EXPECTED_CHANNELS,
    EXPECTED_DAYS,
    EXPECTED_DISTRIBUTION,
    EXPECTED_FRT_BUCKETS,
    EXPECTED_OPERATORS,
    EXPECTED_QUEUES,
    EXPECTED_RESOLUTION_BUCKETS,
    EXPECTED_TOTALS,
    FROM,
    NOW,
    POLICY_FILE,
    TO,
    write_fixture,
)


@pytest.fixture
async def history(migrated: Settings, tmp_path: Path) -> AsyncIterator[tuple[Settings, Any]]:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_FILE)
    migrated.tickets.policy_file = str(policy)
    engine = make_engine(migrated.database_url)
    sessions = make_session_factory(engine)
    await write_fixture(sessions)
    yield migrated, sessions
    await engine.dispose()


async def report_for(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                     group: str = "day") -> dict[str, Any]:
    period = parse_period(FROM, TO, timezone="UTC", default_days=30, now=NOW)
    return await kpi_report(sessions, settings, period, NOW, group)


def same(actual: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """The keys whose value differs (floats within 1e-9)."""
    wrong = []
    for key, want in expected.items():
        got = actual.get(key, "<missing>")
        exact = want is None or isinstance(got, str)
        if not (got == want if exact else got == pytest.approx(want, abs=1e-9)):
            wrong.append(f"{key}: got {got!r}, expected {want!r}")
    return wrong


async def test_the_totals_match_the_hand_computed_figures(history: tuple[Settings, Any]) -> None:
    report = await report_for(*history)
    assert same(report["totals"], EXPECTED_TOTALS) == []
    assert report["csat_distribution"] == EXPECTED_DISTRIBUTION
    assert report["distributions"]["frt_bh"] == EXPECTED_FRT_BUCKETS
    assert report["distributions"]["resolution_bh"] == EXPECTED_RESOLUTION_BUCKETS
    assert report["period"]["from"] == "2026-01-05T00:00:00+00:00"
    assert report["period"]["to"] == "2026-01-07T00:00:00+00:00"


async def test_day_by_day(history: tuple[Settings, Any]) -> None:
    report = await report_for(*history)
    days = {row["key"]: row for row in report["daily"]}
    assert list(days) == ["2026-01-05", "2026-01-06"]
    for day, expected in EXPECTED_DAYS.items():
        assert same(days[day], expected) == [], day
    assert report["groups"] == report["daily"]


@pytest.mark.parametrize(("group", "expected"), [
    ("queue", EXPECTED_QUEUES), ("operator", EXPECTED_OPERATORS), ("channel", EXPECTED_CHANNELS),
])
async def test_by_group(history: tuple[Settings, Any], group: str, expected: dict[str, Any]) -> None:
    report = await report_for(*history, group=group)
    rows = {row["key"]: row for row in report["groups"]}
    assert set(expected) <= set(rows)
    for key, figures in expected.items():
        assert same(rows[key], figures) == [], key
    if group != "channel":  # bot-only conversations have no queue or operator
        assert all(row["conversations"] is None for row in rows.values())
    assert same(report["totals"], EXPECTED_TOTALS) == []  # grouping never changes the totals


async def test_a_period_without_activity_has_no_rates_rather_than_zero(history: tuple[Settings, Any]) -> None:
    settings, sessions = history
    period = parse_period("2025-12-01", "2025-12-02", timezone="UTC", default_days=30, now=NOW)
    totals = (await kpi_report(sessions, settings, period, NOW))["totals"]
    assert totals["conversations"] == 0 and totals["tickets"] == 0
    assert totals["containment_rate"] is None and totals["frt_median_s"] is None
    assert totals["csat_rate"] is None and totals["backlog"] == 0
    # A period after "now": the backlog is today's (T4 is still new), not a guess.
    later = parse_period("2026-02-01", "2026-02-02", timezone="UTC", default_days=30, now=NOW)
    assert (await kpi_report(sessions, settings, later, NOW))["totals"]["backlog"] == 1


async def test_the_csv_holds_the_same_figures(history: tuple[Settings, Any]) -> None:
    report = await report_for(*history, group="queue")
    lines = report_csv(report).splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["queue", "from", "to"]
    rows = {line.split(",")[0]: dict(zip(header, line.split(","), strict=True)) for line in lines[1:]}
    assert set(rows) == {"L1", "L2", "total"}
    assert rows["total"]["tickets"] == "4" and rows["total"]["frt_median_s"] == "5400"
    assert rows["total"]["csat_mean"] == "3.5" and rows["total"]["containment_rate"] == "0.2857"
    assert rows["L2"]["escalated"] == "1" and rows["L2"]["conversations"] == ""


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([10, 1, 3, 2], 50) == 2
    assert percentile([10, 1, 3, 2], 90) == 10
    assert percentile([7], 90) == 7
    assert percentile([], 50) is None


def test_periods() -> None:
    p = parse_period("2026-03-28", "2026-03-29", timezone="Europe/Paris", default_days=30, now=NOW)
    # 28 March 00:00 in Paris is 23:00 UTC the day before; the clocks go forward on the 29th.
    assert p.start.isoformat() == "2026-03-27T23:00:00+00:00"
    assert p.end.isoformat() == "2026-03-29T22:00:00+00:00"
    assert [d.isoformat() for d in p.days()] == ["2026-03-28", "2026-03-29"]
    default = parse_period(None, None, timezone="UTC", default_days=7, now=NOW)
    assert default.start.isoformat() == "2026-01-03T00:00:00+00:00"
    assert default.end.isoformat() == "2026-01-10T00:00:00+00:00"
    for bad in (("2026-01-06", "2026-01-05"), ("yesterday", None), ("2025-01-01", "2026-06-01")):
        with pytest.raises(InvalidInputError):
            parse_period(bad[0], bad[1], timezone="UTC", default_days=7, now=NOW)
    with pytest.raises(InvalidInputError):
        parse_period(None, None, timezone="Mars/Olympus", default_days=7, now=NOW)


def test_next_response_cycles_start_at_the_first_customer_message_after_a_human_reply() -> None:
    from gateway.reports.facts import next_response_cycles
    from tests.gateway.reports.fixture import at

    talk = [("customer", at(5, 9)), ("operator", at(5, 10)), ("customer", at(5, 11)), ("customer", at(5, 12)),
            ("operator", at(5, 13)), ("customer", at(5, 14))]
    assert next_response_cycles(talk) == [(at(5, 11), at(5, 13))]  # 14:00 still waits: no figure yet
    assert next_response_cycles([("customer", at(5, 9)), ("customer", at(5, 10))]) == []
