"""The KPI gauges on /metrics carry the figures of the tables (here: the hand-computed
history, seen over the last 7 days from Friday 9 January noon)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.flow.bus import InProcessEventBus
from gateway.flow.store import SqlStore
from gateway.reports.gauges import refresh
from tests.gateway.reports.fixture import NOW, POLICY_FILE, write_fixture


def gauge(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    assert value is not None, (name, labels)
    return value


async def test_the_gauges_show_the_last_days(migrated: Settings, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_FILE)
    migrated.tickets.policy_file = str(policy)
    migrated.reports.metrics_days = 7  # Jan 2 12:00 .. Jan 9 12:00: the whole history but T0's creation
    engine = make_engine(migrated.database_url)
    store = SqlStore(make_session_factory(engine), FakeClock(NOW), migrated, InProcessEventBus())
    try:
        await write_fixture(store.sessions)
        totals = (await refresh(store))["totals"]
    finally:
        await engine.dispose()
    # T0 (Jan 4) is in the window now: 5 tickets, 9 conversations (8 handled); T0 was never answered.
    assert totals["tickets"] == 5 and totals["conversations"] == 9
    assert gauge("guichet_kpi_count", kpi="tickets") == 5
    assert gauge("guichet_kpi_count", kpi="backlog") == 1  # T4, still new on Friday
    assert gauge("guichet_kpi_ratio", kpi="containment") == 2 / 8
    assert gauge("guichet_kpi_ratio", kpi="csat") == 2 / 3  # 5, 2 and T3's 4 (answered Wednesday)
    assert gauge("guichet_kpi_seconds", kpi="first_response", quantile="0.5", clock="wall") == 5400
    assert gauge("guichet_kpi_seconds", kpi="wait", quantile="0.9", clock="wall") == 4800
    assert gauge("guichet_kpi_seconds", kpi="resolution", quantile="0.5", clock="business") == 9000
