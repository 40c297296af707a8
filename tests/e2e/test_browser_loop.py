"""The whole loop in a real browser: a visitor gets a KB answer, asks for a person,
gets a ticket number; an operator sees the ticket arrive live, takes over,
replies; the visitor sees the reply; the operator resolves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pages import PASSWORD, TIMEOUT, last_bot_text, submit_login, ticket_number, visitor_asks
from tests.e2e.server import GuichetServer

pytestmark = pytest.mark.e2e



async def test_visitor_to_operator_and_back(tmp_path: Path, browser: Any) -> None:
    server = GuichetServer(tmp_path)  # the real embedding model on the sample KB
    server.start()
    try:
        assert "Operator console" in server.output()
        server.add_user("olga", PASSWORD, "operator")

        # The operator logs in first and watches the queue.
        op = await (await browser.new_context()).new_page()
        await op.goto(f"{server.base_url}/console")
        assert "/console/login" in op.url  # anonymous: sent to the login page
        await submit_login(op, "olga")
        await op.wait_for_selector("#ticket-list", state="attached", timeout=TIMEOUT)
        await op.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
        assert await op.locator(".ticket-row").count() == 0

        # A visitor asks a question the sample KB answers.
        visitor = await visitor_asks(browser, server.base_url, "How do I reset my forgotten password?")
        assert "Reset a forgotten password" in await last_bot_text(visitor)

        # Not helped: asks for a person and gets a ticket number.
        await visitor.click(".guichet-quick-reply[data-id=handoff] >> nth=-1")
        number = await ticket_number(visitor)

        # The ticket appears in the operator's queue without a reload.
        row = op.locator(f".ticket-row[data-number='{number}']")
        await row.wait_for(timeout=TIMEOUT)
        await row.click()
        await op.wait_for_selector("#conversation .msg[data-author=customer]", timeout=TIMEOUT)
        assert "reset my forgotten password" in await op.inner_text("#conversation")
        await op.click("#btn-take")
        await op.wait_for_selector("#ticket-status:has-text('open')", timeout=TIMEOUT)

        # An internal note is never shown to the visitor; a reply is.
        await op.fill("#note-text", "INTERNAL: check the SSO setup")
        await op.click("#btn-note")
        await op.wait_for_selector("#conversation .msg[data-kind=note]", timeout=TIMEOUT)
        await op.fill("#reply-text", "Hello, I'm Olga. I have sent you a new reset link.")
        await op.click("#btn-reply")
        reply = visitor.locator(".guichet-msg[data-author=operator]", has_text="new reset link")
        await reply.wait_for(timeout=TIMEOUT)
        assert "INTERNAL" not in await visitor.inner_text("#guichet-panel")

        # Resolved: the visitor is told.
        await op.click("#btn-resolve")
        await op.wait_for_selector("#ticket-status:has-text('resolved')", timeout=TIMEOUT)
        done = visitor.locator(".guichet-msg", has_text=f"{number} has been marked as resolved")
        await done.wait_for(timeout=TIMEOUT)

        # A reload resumes the visitor's conversation from the signed token.
        await visitor.reload()
        await visitor.click("#guichet-launcher")
        await visitor.locator(".guichet-msg[data-author=operator]").first.wait_for(timeout=TIMEOUT)
    finally:
        server.stop()
