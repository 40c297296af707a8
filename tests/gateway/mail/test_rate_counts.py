"""The SMTP rate limit's per-process counts: far below the limit a recent count
decides without the database; near the limit, and once it is stale, the
database (shared by every process) decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.mail.rate import RecentCounts

T0 = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC)
KEY = "smtp:192.0.2.7"


def test_a_recent_count_decides_far_below_the_limit_and_counts_this_process_accepts() -> None:
    counts = RecentCounts(refresh=1.0)
    assert counts.cached(KEY, T0, 10, 60) is None  # never read: the database decides
    counts.remember(KEY, T0, 60, 2)
    assert counts.cached(KEY, T0, 10, 60) == 2
    counts.accepted(KEY, T0, 60)
    counts.accepted(KEY, T0, 60)
    assert counts.cached(KEY, T0 + timedelta(milliseconds=500), 10, 60) == 4


def test_near_the_limit_or_when_stale_or_in_a_new_window_the_database_decides() -> None:
    counts = RecentCounts(refresh=1.0)
    counts.remember(KEY, T0, 60, 4)
    assert counts.cached(KEY, T0, 10, 60) == 4
    counts.accepted(KEY, T0, 60)  # 5 of 10: half the limit, another process may have sent more
    assert counts.cached(KEY, T0, 10, 60) is None
    counts.remember(KEY, T0, 60, 1)
    assert counts.cached(KEY, T0 + timedelta(seconds=1), 10, 60) is None  # read a second ago: stale
    counts.remember(KEY, T0, 60, 1)
    assert counts.cached(KEY, T0 + timedelta(seconds=55), 10, 60) is None  # the next window
    assert counts.cached(KEY, T0, 2, 60) is None  # the limit lowered meanwhile: 1 is half of 2
