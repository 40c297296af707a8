"""The ticket desk in the console, in headless Chromium against the whole app on a
controllable clock (issue 9, acceptance 2 without the dashboard): a supervisor sees a
live SLA countdown; a breached ticket moves to second level with a higher priority; an
operator gives a ticket to a colleague (who finds it in their view), answers with a
canned response (the customer receives it filled in), schedules a callback and is
reminded in the console when it falls due.  Also: axe-core finds nothing serious on
the new parts, French words, and no sideways scrolling at 375 px.

Time: the server runs on a :class:`~gateway.clock.FakeClock` and the test runs the
ticket sweeper itself (``sweep_once``) after moving it; the browser's countdown is
moved with Playwright's clock.  Nothing sleeps for the SLA."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.auth import create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.flow.store import SqlStore
from gateway.tickets.sweeper import sweep_once
from gateway.views import UserView
from gateway.web import keys
from tests.e2e.pages import PASSWORD, TIMEOUT, submit_login
from tests.e2e.ux import ChatVisitor, axe_violations, until
from tests.gateway.conftest import StubRetriever

pytestmark = pytest.mark.e2e

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
POLICY = """
[[sla]]
name = "standard"
first_response = { P1 = 15, P2 = 30, P3 = 60, P4 = 120 }
next_response = { P1 = 30, P2 = 60, P3 = 120, P4 = 240 }
resolution = { P1 = 240, P2 = 480, P3 = 960, P4 = 1920 }
warn_share = 0.75
on_breach = ["notify", "raise_priority", "escalate"]
"""
CANNED = "Hello {customer_name}, this is {operator_name} about ticket {ticket_number}. We are on it."
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


@dataclass
class Desk:
    app: web.Application
    base: str
    clock: FakeClock

    @property
    def store(self) -> SqlStore:
        return self.app[keys.STORE]

    async def sweep(self, **advance: float) -> Any:
        """Move the server's clock, then run one pass of the ticket sweeper."""
        self.clock.advance(**advance)
        return await sweep_once(self.store)


@pytest.fixture
async def desk(settings: Settings, tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Desk]:
    (tmp_path / "kb").mkdir()
    settings.kb.source_dir = str(tmp_path / "kb")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    settings.tickets.policy_file = str(policy)
    settings.tickets.sweep_interval = 0  # the test runs the sweeper
    settings.tickets.tell_customer_appointments = True
    clock = FakeClock(START)
    app = create_app(settings, clock=clock, retriever=StubRetriever())
    server = await aiohttp_server(app)
    db = app[keys.SESSIONS]
    sam = await create_user(db, "sam", PASSWORD, "supervisor", "Sam Super", clock=clock)
    await create_user(db, "olga", PASSWORD, "operator", "Olga", clock=clock)
    await create_user(db, "paul", PASSWORD, "operator", "Paul", clock=clock)
    await app[keys.DESK].canned.save(UserView(sam.id, "sam", "supervisor", "Sam Super"), "Greeting", CANNED)
    yield Desk(app, str(server.make_url("")).rstrip("/"), clock)


async def console(browser: Any, base: str, name: str, *, width: int = 1280, height: int = 800,
                  clock: bool = False, **context: Any) -> Any:
    """``name`` logged in to the console, its live feed on."""
    ctx = await browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC",
                                    locale="en-GB", **context)
    page = await ctx.new_page()
    if clock:
        await page.clock.install()
    await page.goto(f"{base}/console")
    await submit_login(page, name)
    await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
    return page


def row(page: Any, number: str) -> Any:
    return page.locator(f"#ticket-list .ticket-row[data-number='{number}']")


async def open_tools(page: Any, number: str) -> None:
    await row(page, number).click()
    await page.wait_for_selector(f"#ticket-number:has-text('{number}')", timeout=TIMEOUT)
    await page.locator("#desk-assignee option").first.wait_for(state="attached", timeout=TIMEOUT)
    if not await page.locator("#desk-tools").evaluate("(d) => d.open"):
        await page.click("#desk-tools > summary")


async def test_a_supervisor_sees_the_countdown_and_a_breach_moves_the_ticket_up(
    desk: Desk, browser: Any
) -> None:
    async with ChatVisitor(desk.base) as visitor:
        number = await visitor.hand_off()
        sam = await console(browser, desk.base, "sam", clock=True)
        ticket = row(sam, number)
        await ticket.wait_for(timeout=TIMEOUT)
        assert await ticket.get_attribute("data-priority") == "P3"
        assert await ticket.locator(".col-queue").inner_text() == "L1"

        # First response within 60 minutes (P3): the countdown runs from the server's time.
        clock = ticket.locator(".col-sla .sla")
        assert re.fullmatch(r"\d+ min \d\d s left", await clock.inner_text())
        assert await clock.get_attribute("data-sla-state") == "ok"
        left = int(await clock.get_attribute("data-sla-seconds") or "0")
        assert 3300 < left <= 3600

        # It counts down without a reload; amber once 75 % of the target has run.
        await sam.clock.fast_forward("50:00")
        await until(sam, f"""(() => {{ const s = document.querySelector(
            ".ticket-row[data-number='{number}'] .sla"); return s.dataset.slaState === "risk"; }})()""")
        assert int(await clock.get_attribute("data-sla-seconds") or "0") <= left - 50 * 60
        assert "left" in await clock.inner_text()
        amber = await clock.evaluate("(n) => getComputedStyle(n).backgroundColor")

        # The server's clock is there too: the view of tickets at risk lists it.
        report = await desk.sweep(minutes=50)
        assert (number, "first_response", "warning") in report.alerts
        await sam.click("#desk-views [data-view='at_risk']")
        await until(sam, "document.querySelector('#desk-views [data-view=at_risk]')"
                         ".getAttribute('aria-pressed') === 'true'")
        await ticket.wait_for(timeout=TIMEOUT)
        assert await sam.locator("#ticket-list .ticket-row").count() == 1

        # The server's clock passes the deadline; the sweeper finds the breach: the
        # priority goes up one level and the ticket moves to second level, live.
        report = await desk.sweep(minutes=11)
        assert number in report.raised and number in report.escalated
        moved = f".ticket-row[data-number='{number}'][data-priority='P2'][data-queue='L2']"
        await sam.locator(moved).wait_for(timeout=TIMEOUT)
        await until(sam, f"""document.querySelector(".ticket-row[data-number='{number}'] .sla")
            .dataset.slaState === "breached" """)
        assert (await clock.inner_text()).startswith("overdue by")
        red = await clock.evaluate("(n) => getComputedStyle(n).backgroundColor")
        assert red != amber

        # The ticket says so too.
        await open_tools(sam, number)
        assert await sam.inner_text("#ticket-queue") == "L2"
        assert await sam.inner_text("#ticket-priority") == "P2"
        await sam.locator("#conversation .msg-event", has_text="priority P3 → P2").wait_for(timeout=TIMEOUT)
        await sam.locator("#conversation .msg-event", has_text="escalated").wait_for(timeout=TIMEOUT)
        assert await sam.locator("#ticket-sla .sla-breached").count() == 1


async def test_an_operator_assigns_answers_with_a_canned_response_and_is_reminded_of_a_callback(
    desk: Desk, browser: Any
) -> None:
    async with ChatVisitor(desk.base) as visitor:
        number = await visitor.hand_off()
        olga = await console(browser, desk.base, "olga")
        paul = await console(browser, desk.base, "paul")
        await paul.click("#desk-views [data-view='mine']")
        await until(paul, "document.querySelector('#desk-views [data-view=mine]')"
                          ".getAttribute('aria-pressed') === 'true'")
        assert await row(paul, number).count() == 0

        # A canned response, filled for this ticket, goes in the reply box and out.
        await row(olga, number).wait_for(timeout=TIMEOUT)
        await open_tools(olga, number)
        await olga.select_option("#desk-canned", label="Greeting")
        await olga.click("#desk-canned-insert")
        filled = f"Hello Bea Customer, this is Olga about ticket {number}. We are on it."
        await until(olga, "document.getElementById('reply-text').value.length > 0")
        assert await olga.input_value("#reply-text") == filled
        await olga.click("#btn-reply")
        await olga.locator("#conversation .msg-operator", has_text="We are on it.").wait_for(timeout=TIMEOUT)
        got = await visitor.until(lambda f: f["type"] == "message" and f["message"]["author"] == "operator")
        assert got["message"]["text"] == filled

        # A callback in 30 minutes; the customer is told.
        await olga.fill("#appt-when", "2026-01-05T09:30")
        await olga.fill("#appt-phone", "+33 1 23 45 67 89")
        await olga.fill("#appt-note", "Invoice question")
        await olga.click("#appt-schedule")
        scheduled = olga.locator("#appt-list .appt-scheduled", has_text="Invoice question")
        await scheduled.wait_for(timeout=TIMEOUT)
        told = await visitor.until(lambda f: f["type"] == "message" and "G-" in f["message"]["text"]
                                   and "call" in f["message"]["text"].lower())
        assert number in told["message"]["text"]

        # Olga gives the ticket to Paul: it appears in Paul's "mine", with a reminder.
        paul_id = await olga.eval_on_selector_all(
            "#desk-assignee option", "(os) => os.find((o) => o.textContent.startsWith('Paul ')).value")
        await olga.select_option("#desk-assignee", paul_id)
        await olga.click("#desk-assign")
        await olga.locator("#ticket-assignee", has_text="Paul").wait_for(timeout=TIMEOUT)
        await row(paul, number).wait_for(timeout=TIMEOUT)
        toast = paul.locator("#desk-toasts .toast", has_text=f"Ticket {number} assigned to you by Olga")
        await toast.wait_for(timeout=TIMEOUT)

        # The callback falls due: Olga (its owner) is reminded in the console.
        report = await desk.sweep(minutes=31)
        assert report.reminders == 1
        due = olga.locator("#desk-toasts .toast", has_text=f"Callback due: ticket {number}")
        await due.wait_for(timeout=TIMEOUT)
        assert "Call +33 1 23 45 67 89 · Invoice question" in await due.inner_text()
        assert await paul.locator("#desk-toasts .toast", has_text="Callback due").count() == 0  # not his
        await olga.locator("#appt-list .appt-reminded").wait_for(timeout=TIMEOUT)
        await due.locator(".toast-dismiss").click()
        await due.wait_for(state="detached", timeout=TIMEOUT)


async def test_the_desk_is_accessible_in_french_and_on_a_phone(desk: Desk, browser: Any) -> None:
    async with ChatVisitor(desk.base) as visitor:
        number = await visitor.hand_off()
        page = await console(browser, desk.base, "olga", bypass_csp=True)  # axe goes in as a script
        await row(page, number).wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], violations  # views, search, rows
        await open_tools(page, number)
        await page.locator("#customer-body .customer-identities").wait_for(timeout=TIMEOUT)
        await page.fill("#desk-reason", "")
        await page.click("#desk-escalate")  # refused: no reason, said in words
        await page.locator("#action-error", has_text="Give a reason first.").wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], violations  # the ticket's tools

        # With a reason, the transfer goes through; the queue's row follows.
        await page.fill("#desk-reason", "billing question")
        await page.select_option("#desk-queue", "L2")
        await page.click("#desk-transfer")
        await page.locator("#ticket-queue", has_text="L2").wait_for(timeout=TIMEOUT)
        await page.locator(f".ticket-row[data-number='{number}'][data-queue='L2']").wait_for(timeout=TIMEOUT)
        event = page.locator("#conversation .msg-event", has_text="transferred")
        await event.wait_for(timeout=TIMEOUT)
        assert "(billing question)" in await event.inner_text()

        # A search finds the ticket by its number; another number finds nothing.
        await page.fill("#desk-q", number)
        await page.click("#desk-search button[type=submit]")
        await until(page, "document.querySelectorAll('#ticket-list .ticket-row').length === 1")
        await page.fill("#desk-q", "G-999999")
        await page.click("#desk-search button[type=submit]")
        await until(page, "document.querySelectorAll('#ticket-list .ticket-row').length === 0")
        await page.fill("#desk-q", "")
        await page.click("#desk-search button[type=submit]")
        await row(page, number).wait_for(timeout=TIMEOUT)

        # French.
        await page.select_option("#console-lang", "fr")
        await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
        assert await page.inner_text("#desk-views [data-view='mine']") == "Les miens"
        await row(page, number).wait_for(timeout=TIMEOUT)
        assert (await row(page, number).locator(".sla").inner_text()).startswith("reste ")
        assert await row(page, number).locator(".col-state").inner_text() == "nouveau"

        # 375 px: the views, the rows and the ticket's tools, no sideways scrolling.
        phone = await console(browser, desk.base, "olga", width=375, height=740, is_mobile=True,
                              has_touch=True, bypass_csp=True)
        await row(phone, number).wait_for(timeout=TIMEOUT)
        assert await phone.evaluate(NO_SIDEWAYS)
        assert await row(phone, number).locator(".sla").is_visible()
        await row(phone, number).locator(".col-subject").tap()
        await phone.wait_for_selector(f"#ticket-number:has-text('{number}')", timeout=TIMEOUT)
        await phone.locator("#desk-assignee option").first.wait_for(state="attached", timeout=TIMEOUT)
        await phone.locator("#desk-tools > summary").tap()
        await phone.locator("#appt-schedule").wait_for(timeout=TIMEOUT)
        assert await phone.evaluate(NO_SIDEWAYS)
        for control in ("#desk-assign", "#appt-schedule", "#desk-escalate", "#appt-when"):
            box = await phone.locator(control).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, control
        assert (violations := await axe_violations(phone)) == [], violations
        assert visitor.token
