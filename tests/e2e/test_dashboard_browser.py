"""The supervisors' dashboard in headless Chromium against a real server: its
headline figures, its four inline-SVG charts and its table show exactly the figures of
the history computed by hand in tests/gateway/reports/fixture.py; the period filter,
the CSV link and the French words work; an operator is refused.  The dashboard and the
customers' survey page have no serious axe-core violation, and a customer answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.db.engine import make_engine, make_session_factory
from gateway.db.migrate import upgrade_async
from gateway.db.tables import Conversation, Ticket
from gateway.db.tables_csat import CsatSurvey
from gateway.reports.csat import new_token, token_hash
from tests.e2e.pages import PASSWORD, TIMEOUT, submit_login
from tests.e2e.server import GuichetServer
from tests.e2e.ux import axe_violations
from tests.gateway.reports.fixture import (
    EXPECTED_DAYS,
    EXPECTED_DISTRIBUTION,
    EXPECTED_FRT_BUCKETS,
    EXPECTED_RESOLUTION_BUCKETS,
    POLICY_FILE,
    write_fixture,
)

pytestmark = pytest.mark.e2e

VALUES = """(selector) => Array.from(document.querySelectorAll(selector))
    .map((n) => n.dataset.value === "" ? null : Number(n.dataset.value))"""


TOKEN = new_token()


async def prepare(tmp_path: Path) -> GuichetServer:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_FILE)
    server = GuichetServer(tmp_path, embedder="hash", GUICHET_TICKETS_POLICY_FILE=str(policy),
                           GUICHET_TICKETS_SWEEP_INTERVAL="0", GUICHET_REPORTS_TIMEZONE="UTC")
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'guichet.db'}"
    (tmp_path / "data").mkdir(parents=True)
    await upgrade_async(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    await write_fixture(sessions)  # written before the server runs
    async with sessions() as session, session.begin():  # an open survey on T4, sent after the period
        t4 = (await session.execute(select(Ticket).where(Ticket.number == "G-4"))).scalar_one()
        conv = await session.get(Conversation, t4.conversation_id)
        assert conv is not None
        session.add(CsatSurvey(ticket_id=t4.id, conversation_id=conv.id, channel=conv.channel,
                               token_hash=token_hash(TOKEN), lang="en",
                               sent_at=datetime(2026, 1, 20, tzinfo=UTC),
                               expires_at=datetime(2099, 1, 1, tzinfo=UTC), comment=""))
    await engine.dispose()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuichetServer]:
    srv = asyncio.run(prepare(tmp_path_factory.mktemp("dashboard")))
    srv.start()
    try:
        srv.add_user("sue", PASSWORD, "supervisor")
        srv.add_user("otto", PASSWORD, "operator")
        yield srv
    finally:
        srv.stop()


async def kpi(page: Any, name: str) -> str:
    text: str = await page.locator(f"#kpi-{name} .kpi-value").inner_text()
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def test_the_dashboard_draws_the_hand_computed_figures(server: GuichetServer, browser: Any) -> None:
    base = server.base_url
    page = await (await browser.new_context(locale="en-US")).new_page()
    problems: list[str] = []  # script errors, CSP violations
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{base}/dashboard?from=2026-01-05&to=2026-01-06&group=queue&lang=en")
    assert "/console/login" in page.url  # anonymous: the login form first
    await submit_login(page, "sue")
    await page.wait_for_selector("body[data-loaded=true]", timeout=TIMEOUT)
    assert "/dashboard" in page.url

    # Headline figures (by hand: fixture.py).
    assert await kpi(page, "conversations") == "8"
    assert await kpi(page, "containment") == "28.6%"  # 2 of the 7 the desk handled
    assert await page.locator("#kpi-containment .kpi-sub").inner_text() == "2 / 7"
    assert await kpi(page, "tickets") == "4"
    assert await kpi(page, "fcr") == "66.7%"  # T1 and T3 of 3 resolved
    assert await kpi(page, "frt") == "45 min"  # business-hours median of 30, 45, 90 min
    assert await kpi(page, "resolution") == "2 h 30 min"  # median of 60, 150, 510 min
    assert await kpi(page, "sla") == "50%" and await kpi(page, "sla-res") == "50%"
    assert await kpi(page, "csat") == "50%"  # one 5, one 2
    assert "3.5" in await page.locator("#kpi-csat .kpi-sub").inner_text()
    assert await kpi(page, "backlog") == "2"

    # The charts: SVG drawn by dashboard.js, one bar per day and series.
    days = list(EXPECTED_DAYS.values())
    assert await page.locator("#chart-volume svg").count() == 1
    assert await page.evaluate(VALUES, "#chart-volume rect.s-conversations") == [
        d["conversations"] for d in days]
    assert await page.evaluate(VALUES, "#chart-volume rect.s-tickets") == [d["tickets"] for d in days]
    assert await page.evaluate(VALUES, "#chart-volume rect.s-contained") == [d["contained"] for d in days]
    assert await page.evaluate(VALUES, "#chart-frt rect.s-median") == [d["frt_bh_median_s"] for d in days]
    assert await page.evaluate(VALUES, "#chart-frt rect.s-p90") == [d["frt_bh_p90_s"] for d in days]
    assert await page.evaluate(VALUES, "#chart-sla rect.met") == [2, 2]
    assert await page.evaluate(VALUES, "#chart-sla rect.breached") == [2, 2]
    assert await page.evaluate(VALUES, "#chart-csat rect.s-csat") == list(EXPECTED_DISTRIBUTION.values())
    assert await page.evaluate(VALUES, "#chart-dist rect.s-median") == EXPECTED_FRT_BUCKETS
    assert await page.evaluate(VALUES, "#chart-dist rect.s-tickets") == EXPECTED_RESOLUTION_BUCKETS
    ticks = await page.locator("#chart-dist text.tick").all_text_contents()
    assert ticks[-7:] == ["≤ 15 min", "≤ 30 min", "≤ 1 h", "≤ 2 h", "≤ 4 h", "≤ 8 h", "> 8 h"]
    tall = await page.locator("#chart-volume rect.s-conversations").first.get_attribute("height")
    short = await page.locator("#chart-volume rect.s-conversations").last.get_attribute("height")
    assert float(tall or 0) > float(short or 0) > 0  # 5 conversations draw higher than 2
    title = await page.locator("#chart-frt rect.s-median title").first.text_content()
    assert title == "2026-01-05 · median: 30 min"

    # What customers said: newest first, typed text shown as text.
    comments = page.locator("#dash-comments li")
    assert await comments.count() == 2
    assert await comments.first.get_attribute("data-ticket") == "G-2"
    assert await comments.first.locator(".comment-text").inner_text() == "<b>Slow</b> to answer"
    assert await page.locator("#dash-comments b").count() == 0
    assert (await comments.last.locator(".comment-rating").inner_text()).startswith("5")

    # The table by queue.
    l1 = page.locator("#dash-groups tr[data-key=L1]")
    assert await l1.locator("td[data-field=tickets]").inner_text() == "3"
    assert await page.locator("#dash-groups tr[data-key=L2] td[data-field=backlog]").inner_text() == "1"

    # The CSV link carries the period.
    href = await page.locator("#dash-csv").get_attribute("href")
    assert href == "/api/reports/kpis.csv?from=2026-01-05&to=2026-01-06&group=queue"
    csv = await page.request.get(base + href)
    assert csv.status == 200 and (await csv.text()).splitlines()[-1].startswith("total,")

    # The period filter: Tuesday only.
    await page.fill("#dash-from", "2026-01-06")
    await page.evaluate("document.body.dataset.loaded = 'no'")
    await page.click("#dash-filter button[type=submit]")
    await page.wait_for_selector("body[data-loaded=true]", timeout=TIMEOUT)
    assert await kpi(page, "conversations") == "3" and await kpi(page, "tickets") == "2"
    assert await page.evaluate(VALUES, "#chart-volume rect.s-conversations") == [3]
    assert "from=2026-01-06" in page.url

    # In French.
    await page.goto(f"{base}/dashboard?from=2026-01-05&to=2026-01-06&group=channel&lang=fr")
    await page.wait_for_selector("body[data-loaded=true]", timeout=TIMEOUT)
    assert await page.locator("#dash-title").inner_text() == "Tableau de bord"
    assert await kpi(page, "containment") == "28,6 %"
    assert await page.locator("#dash-groups tr[data-key=email] th").inner_text() == "E-mail"
    assert problems == []

    # An operator may not see it.
    other = await (await browser.new_context()).new_page()
    await other.goto(f"{base}/console/login?next=/dashboard")
    await submit_login(other, "otto")
    response = await other.goto(f"{base}/dashboard")
    assert response is not None and response.status == 403


def report(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']} {v['targets']}" for v in violations)


async def test_accessible_dashboard_and_survey_page_and_one_answer(server: GuichetServer,
                                                                   browser: Any) -> None:
    base = server.base_url
    ctx = await browser.new_context(bypass_csp=True, locale="fr-FR")  # axe goes in as an inline script
    page = await ctx.new_page()
    await page.goto(f"{base}/console/login?next=/dashboard")
    await submit_login(page, "sue")
    await page.wait_for_selector("body[data-loaded=true]", timeout=TIMEOUT)
    assert await page.locator("#dash-title").inner_text() == "Tableau de bord"  # the browser's language
    assert (violations := await axe_violations(page)) == [], report(violations)

    customer = await (await browser.new_context(bypass_csp=True, locale="en-US")).new_page()
    shown = await customer.goto(f"{base}/csat/{TOKEN}")
    assert shown is not None and shown.status == 200
    assert "ticket G-4" in await customer.locator("legend").inner_text()
    assert (violations := await axe_violations(customer)) == [], report(violations)
    await customer.click("label.csat-rating:has-text('4')")
    await customer.fill("#csat-comment", "Quick, thanks")
    await customer.click("button[type=submit]")
    await customer.locator("#csat-thanks").wait_for(timeout=TIMEOUT)
    again = await customer.goto(f"{base}/csat/{TOKEN}")
    assert again is not None and again.status == 409
    assert "already answered" in await customer.locator("#csat-error").inner_text()
    wrong = await customer.goto(f"{base}/csat/{TOKEN[:-2]}xx")
    assert wrong is not None and wrong.status == 404
