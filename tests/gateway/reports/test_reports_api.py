"""The KPI API and the dashboard page, through the whole app (security middleware,
roles), on the hand-computed history of fixture.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from gateway.auth import create_session, create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.web import keys
from gateway.web.security import SESSION_COOKIE
from tests.gateway.conftest import StubRetriever
from tests.gateway.reports.fixture import (
    EXPECTED_ANSWERS,
    EXPECTED_QUEUES,
    EXPECTED_TOTALS,
    FROM,
    NOW,
    POLICY_FILE,
    TO,
    write_fixture,
)
from tests.gateway.reports.test_kpis import same


@pytest.fixture
async def client(settings: Settings, tmp_path: Path, aiohttp_client: Any) -> Any:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_FILE)
    settings.tickets.policy_file = str(policy)
    settings.tickets.sweep_interval = 0  # the history is written by hand: no sweeper changing it
    settings.kb.source_dir = str(tmp_path / "kb")
    (tmp_path / "kb").mkdir()
    app = create_app(settings, clock=FakeClock(NOW), retriever=StubRetriever())
    c = await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())
    db = app[keys.SESSIONS]
    await write_fixture(db)
    c.headers_for = {}
    for role in ("operator", "supervisor", "admin"):
        user = await create_user(db, f"{role}-x", "correct horse battery", role)
        cookie, _ = await create_session(db, user.id, FakeClock(NOW), 1)
        c.headers_for[role] = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    return c


async def test_a_supervisor_reads_the_hand_computed_figures(client: Any) -> None:
    r = await client.get(f"/api/reports/kpis?from={FROM}&to={TO}&group=queue",
                         headers=client.headers_for["supervisor"])
    assert r.status == 200
    data = await r.json()
    assert same(data["totals"], EXPECTED_TOTALS) == []
    rows = {row["key"]: row for row in data["groups"]}
    for queue, expected in EXPECTED_QUEUES.items():
        assert same(rows[queue], expected) == [], queue


async def test_the_answers_with_their_comments(client: Any) -> None:
    r = await client.get(f"/api/reports/csat?from={FROM}&to={TO}", headers=client.headers_for["supervisor"])
    assert r.status == 200
    answers = (await r.json())["answers"]
    assert [(a["ticket_number"], a["rating"], a["comment"]) for a in answers] == EXPECTED_ANSWERS
    assert answers[0]["operator"] == "paul" and answers[1]["channel"] == "email"
    one = await client.get(f"/api/reports/csat?from={FROM}&to={TO}&limit=1",
                           headers=client.headers_for["admin"])
    assert len((await one.json())["answers"]) == 1
    for bad in ("0", "501", "x"):
        r = await client.get(f"/api/reports/csat?limit={bad}", headers=client.headers_for["supervisor"])
        assert r.status == 400


async def test_the_csv_download(client: Any) -> None:
    r = await client.get(f"/api/reports/kpis.csv?from={FROM}&to={TO}&group=day",
                         headers=client.headers_for["admin"])
    assert r.status == 200 and r.content_type == "text/csv"
    assert 'filename="guichet-kpis-day-2026-01-05-2026-01-07.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await r.text())))
    assert [row["day"] for row in rows] == ["2026-01-05", "2026-01-06", "total"]
    assert rows[0]["conversations"] == "5" and rows[1]["sla_frt_breached"] == "2"
    assert rows[2]["fcr_rate"] == "0.6667" and rows[2]["backlog"] == "2"


async def test_operators_may_not_and_bad_queries_get_a_reason(client: Any) -> None:
    for path in ("/api/reports/kpis", "/api/reports/kpis.csv", "/api/reports/csat", "/dashboard"):
        r = await client.get(path, headers=client.headers_for["operator"], allow_redirects=False)
        assert r.status == 403, path
    bad = (("group=team", "group"), ("from=yesterday", "from"), ("from=2026-02-01&to=2026-01-01", "before"),
           ("from=2020-01-01&to=2026-01-01", "366"), ("from=9999-12-31&to=9999-12-31", "to"))
    for query, word in bad:
        r = await client.get(f"/api/reports/kpis?{query}", headers=client.headers_for["supervisor"])
        assert r.status == 400, query
        assert word in (await r.json())["message"], query


async def test_the_dashboard_page(client: Any) -> None:
    r = await client.get("/dashboard?lang=fr", headers=client.headers_for["supervisor"])
    html = await r.text()
    assert r.status == 200
    assert "Tableau de bord" in html and "/console/static/dashboard.js" in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    headers = {**client.headers_for["admin"], "Accept-Language": "en-GB"}
    english = await client.get("/dashboard", headers=headers)
    assert "Bot containment" in await english.text()
