"""The contact log, tags and incidents in the console, in headless Chromium against
the whole app on a controllable clock (issue 9): an operator logs a phone call with
its outcome and sees it in the ticket's timeline, tags the ticket and filters the
queue by that tag; a burst of similar tickets raises an incident alert that a
supervisor sees (an operator does not); the supervisor links the tickets and answers
them all with one status message, which each customer receives once, even when it
is sent again; then closes the incident.

Time: the server runs on a :class:`~gateway.clock.FakeClock`; the test runs the
incident scan itself (``scan_once``), as test_desk_browser.py runs the sweeper."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.auth import create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.tables import Message, Ticket
from gateway.flow.store import SqlStore
from gateway.tickets.incident_scan import scan_once
from gateway.web import keys
from tests.e2e.pages import PASSWORD, TIMEOUT
from tests.e2e.test_desk_browser import START, console, open_tools, row
from tests.e2e.ux import ChatVisitor, axe_violations, until
from tests.gateway.conftest import StubRetriever

pytestmark = pytest.mark.e2e

BURST = (
    "The invoice export fails with error 500 since this morning",
    "Invoice export fails: error 500",
    "I get an error 500 when I export my invoice",
)
STATUS = "We know about the invoice export error 500 and are fixing it. We will write again within the hour."


@dataclass
class Site:
    app: web.Application
    base: str
    clock: FakeClock

    @property
    def store(self) -> SqlStore:
        return self.app[keys.STORE]


@pytest.fixture
async def site(settings: Settings, tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Site]:
    (tmp_path / "kb").mkdir()
    settings.kb.source_dir = str(tmp_path / "kb")
    settings.tickets.sweep_interval = 0
    settings.incidents.scan_interval = 0  # the test runs the scan
    clock = FakeClock(START)
    app = create_app(settings, clock=clock, retriever=StubRetriever())
    server = await aiohttp_server(app)
    db = app[keys.SESSIONS]
    await create_user(db, "sam", PASSWORD, "supervisor", "Sam Super", clock=clock)
    await create_user(db, "olga", PASSWORD, "operator", "Olga", clock=clock)
    yield Site(app, str(server.make_url("")).rstrip("/"), clock)


async def ticket_about(visitor: ChatVisitor, question: str) -> str:
    """The visitor asks ``question``, which the bot cannot answer (the stub knows
    nothing): it opens a ticket and gives its number."""
    await visitor.say(question)
    found = re.search(r"G-\d+", await visitor.bot_says(r"G-\d+"))
    assert found is not None
    return found.group(0)


async def test_an_operator_logs_a_phone_call_and_tags_the_ticket(site: Site, browser: Any) -> None:
    async with ChatVisitor(site.base) as visitor, ChatVisitor(site.base) as other:
        number = await ticket_about(visitor, "My March invoice shows the wrong VAT rate")
        second = await ticket_about(other, "How do I add a second user to my account?")
        olga = await console(browser, site.base, "olga", bypass_csp=True)
        await row(olga, second).wait_for(timeout=TIMEOUT)
        await open_tools(olga, number)

        # The call: outgoing, 4 minutes, a callback agreed, with a note.
        await olga.select_option("#contact-channel", "phone")
        await olga.select_option("#contact-direction", "out")
        await olga.fill("#contact-minutes", "4")
        await olga.select_option("#contact-outcome", "callback")
        await olga.fill("#contact-note", "Will call back once accounting checked the VAT.")
        await olga.click("#contact-log")
        line = ("Olga: phone call, outgoing, 4 min: callback agreed. "
                "Will call back once accounting checked the VAT.")
        await olga.locator("#conversation .msg-event", has_text=line).wait_for(timeout=TIMEOUT)
        logged = olga.locator("#contact-list .contact-callback")
        await logged.wait_for(timeout=TIMEOUT)
        assert re.search(r"Callback agreed · Outgoing call · 4 min · .* · by Olga", await logged.inner_text())
        assert "Will call back once accounting checked the VAT." in await logged.inner_text()
        await olga.locator("#desk-notice", has_text="Contact logged.").wait_for(timeout=TIMEOUT)

        # A tag, typed loosely, is stored normalised and offered to the next one.
        await olga.fill("#tag-input", "  VAT Rate ")
        await olga.click("#tag-add")
        await olga.locator("#tag-list .tag[data-tag='vat-rate']").wait_for(timeout=TIMEOUT)
        await olga.fill("#tag-input", "va")
        await until(olga, "[...document.querySelectorAll('#tag-suggestions option')]"
                          ".some((o) => o.value === 'vat-rate')")
        assert (violations := await axe_violations(olga, "#desk-tools")) == [], violations

        # The queue filtered by that tag lists this ticket only.
        await olga.fill("#desk-tag", "vat rate")
        await olga.click("#desk-tag-filter button[type=submit]")
        await until(olga, "document.querySelectorAll('#ticket-list .ticket-row').length === 1")
        assert await row(olga, number).count() == 1
        assert "vat-rate" in await row(olga, number).locator(".row-tags").inner_text()
        await olga.fill("#desk-tag", "")
        await olga.click("#desk-tag-filter button[type=submit]")
        await row(olga, second).wait_for(timeout=TIMEOUT)


async def test_a_burst_raises_an_incident_answered_once_per_customer(site: Site, browser: Any) -> None:
    async with ChatVisitor(site.base) as a, ChatVisitor(site.base) as b, ChatVisitor(site.base) as c:
        visitors = (a, b, c)
        numbers = [await ticket_about(v, text) for v, text in zip(visitors, BURST, strict=True)]
        sam = await console(browser, site.base, "sam", bypass_csp=True)
        olga = await console(browser, site.base, "olga")
        await sam.locator("#incidents-summary", has_text="Incidents (0 open)").wait_for(timeout=TIMEOUT)
        assert await olga.locator("#incidents").count() == 0  # the panel is for supervisors

        # The scan finds the burst: the supervisor is alerted live; the operator is not.
        site.clock.advance(minutes=5)
        report = await scan_once(site.store)
        assert len(report.raised) == 1
        toast = sam.locator("#desk-toasts .toast-incident", has_text="Incident: 3 similar tickets")
        await toast.wait_for(timeout=TIMEOUT)
        await toast.locator(".toast-open").click()
        incident = sam.locator(f".incident[data-incident-id='{report.raised[0]}']")
        await incident.wait_for(timeout=TIMEOUT)
        assert await olga.locator("#desk-toasts .toast-incident").count() == 0
        for number in numbers:
            await incident.locator(".inc-ticket", has_text=number).wait_for(timeout=TIMEOUT)
        assert await incident.locator(".inc-suggested").count() == 3
        assert (violations := await axe_violations(sam, "#incidents")) == [], violations

        # Link all three, then one status message for all.
        for box in await incident.locator(".inc-ticket input[type=checkbox]").all():
            await box.check()
        await incident.locator(".inc-link").click()
        await until(sam, f"document.querySelectorAll(\".incident[data-incident-id='{report.raised[0]}'] "
                         ".inc-linked\").length === 3")
        await incident.locator(".inc-text").fill(STATUS)
        await incident.locator(".inc-announce").click()
        await incident.locator(".inc-notice", has_text="Sent to 3 customers (0 already had it, 0 skipped).") \
            .wait_for(timeout=TIMEOUT)
        for visitor in visitors:
            got = await visitor.until(lambda f: f["type"] == "message" and f["message"]["text"] == STATUS)
            assert got["message"]["author"] == "operator"

        # Sent again (a double click): nobody gets it a second time.
        await incident.locator(".inc-announce").click()
        await incident.locator(".inc-notice", has_text="Sent to 0 customers (3 already had it, 0 skipped).") \
            .wait_for(timeout=TIMEOUT)
        async with site.store.read() as tx:
            stmt = (
                select(Ticket.number, func.count(Message.id))
                .join(Message, Message.conversation_id == Ticket.conversation_id)
                .where(Message.text == STATUS, Message.direction == "out")
                .group_by(Ticket.number)
            )
            per_ticket = dict((await tx.session.execute(stmt)).all())
        assert per_ticket == {number: 1 for number in numbers}
        for visitor in visitors:
            await visitor.say("Thanks")  # anything sent before this answer has arrived by now
            assert sum(1 for f in visitor.frames if f["type"] == "message"
                       and f["message"]["text"] == STATUS) == 1

        # The message is in each ticket's conversation, as the supervisor's reply.
        await row(sam, numbers[0]).click()
        await sam.locator("#conversation .msg-operator", has_text="We know about the invoice export") \
            .wait_for(timeout=TIMEOUT)

        # Closed: the panel has no open incident left.
        await incident.locator(".inc-close").click()
        await sam.locator("#incidents-list", has_text="No open incident.").wait_for(timeout=TIMEOUT)
