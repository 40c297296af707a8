"""The console's JavaScript in headless Chromium, against the console app with an
in-memory OperatorService: live queue, conversation, actions, typing, escaping,
and no CSP violation or script error on the way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.errors import ConflictError
from gateway.flow.bus import InProcessEventBus
from gateway.protocols import Event
from tests.gateway.web.conftest import PASSWORD, FakeOperators, build_app, seed, ticket_view

pytestmark = pytest.mark.e2e

TIMEOUT = 10_000
XSS = '<img src=x onerror="window.__xss = 1">'


async def test_operator_works_a_ticket_live(
    settings: Settings, sessions: Any, aiohttp_server: Any, browser: Any
) -> None:
    from gateway.auth import create_user

    await create_user(sessions, "alice", PASSWORD, "operator", "Alice")
    operators, bus = FakeOperators(), InProcessEventBus()
    server = await aiohttp_server(build_app(settings, sessions, operators, bus, FakeClock()))
    base = str(server.make_url("")).rstrip("/")

    page = await (await browser.new_context()).new_page()
    problems: list[str] = []  # script errors and CSP violations
    failed: list[str] = []  # HTTP errors the page ran into
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    await page.goto(f"{base}/console")
    assert "/console/login" in page.url
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
    assert await page.locator(".ticket-row").count() == 0

    # A ticket created elsewhere appears without a reload; its text is inert.
    ticket = ticket_view(1, subject=f"Printer {XSS}", customer="Bob")
    seed(operators, ticket, [("customer", "message", f"It smokes {XSS}"),
                             ("bot", "message", "Have you tried turning it off?")])
    await bus.publish(Event("ticket.created", {"ticket": ticket.to_dict()}))
    row = page.locator(".ticket-row[data-number='G-0001']")
    await row.wait_for(timeout=TIMEOUT)
    assert XSS in await row.inner_text()

    await row.click()
    await page.wait_for_url("**/console/tickets/1", timeout=TIMEOUT)
    await page.wait_for_selector("#conversation .msg[data-author=customer]", timeout=TIMEOUT)
    assert await page.inner_text("#ticket-status") == "new"
    assert XSS in await page.inner_text("#conversation")

    # A new customer message and their typing show up live.
    await bus.publish(Event("typing", {"conversation_id": 11, "author": "customer", "on": True}))
    await page.wait_for_selector("#typing-indicator:visible", timeout=TIMEOUT)
    live = {"id": 9001, "conversation_id": 11, "author": "customer", "author_name": "", "kind": "message",
            "direction": "in", "text": "Still smoking!", "created_at": "2026-01-05T09:01:00+00:00"}
    await bus.publish(Event("message.created", {"conversation_id": 11, "message": live}))
    await page.locator(".msg[data-message-id='9001']").wait_for(timeout=TIMEOUT)
    await page.wait_for_selector("#typing-indicator", state="hidden", timeout=TIMEOUT)

    # Take over, reply (which tells the bus the operator is typing), note, resolve.
    typing = bus.subscribe("typing")
    await page.click("#btn-take")
    await page.wait_for_selector("#ticket-status:has-text('open')", timeout=TIMEOUT)
    await page.type("#reply-text", "On my way")
    event = await asyncio.wait_for(typing.__anext__(), 5)
    assert event.data == {"conversation_id": 11, "channel": "webchat", "thread_key": "chat-11",
                          "author": "operator", "on": True, "user_id": 1, "name": "Alice"}
    await page.click("#btn-reply")
    await page.locator(".msg[data-author=operator][data-kind=message]").wait_for(timeout=TIMEOUT)
    assert await page.input_value("#reply-text") == ""
    await page.fill("#note-text", "Fire brigade called")
    await page.click("#btn-note")
    note = page.locator(".msg[data-kind=note]")
    await note.wait_for(timeout=TIMEOUT)
    assert "internal" in await note.inner_text()
    await page.click("#btn-resolve")
    await page.wait_for_selector("#ticket-status:has-text('resolved')", timeout=TIMEOUT)
    await row.wait_for(state="detached", timeout=TIMEOUT)  # gone from the open queue
    assert [c[0] for c in operators.calls if c[0] in {"take_over", "reply", "add_note", "resolve"}] == [
        "take_over", "reply", "add_note", "resolve"
    ]

    # A refused action is explained, not swallowed.
    await page.fill("#reply-text", "   ")
    await page.click("#btn-reply")
    await page.wait_for_selector("#action-error:has-text('Write a reply first.')", timeout=TIMEOUT)
    operators.fail["reply"] = ConflictError("This ticket is resolved.")
    await page.fill("#reply-text", "One more thing")
    await page.click("#btn-reply")
    await page.wait_for_selector("#action-error:has-text('This ticket is resolved.')", timeout=TIMEOUT)
    assert await page.input_value("#reply-text") == "One more thing"  # not lost

    assert await page.evaluate("window.__xss") is None
    assert failed == [f"409 {base}/api/conversations/11/reply"]
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
