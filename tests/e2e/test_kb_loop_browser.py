"""Acceptance 5 of the answer-quality issue, in a real browser against a real
server: agent-assist suggestions appear on a handed-off ticket and insert into
the reply; a drafted article goes through approval into the index and is then
answered by the bot.

The server runs on a copy of the sample KB (approval writes into it) with the
deterministic hash embedder: before approval the Bitcoin question is handed off
(confidence ~0.05), after it the new article answers it (~1.0)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pages import PASSWORD, TIMEOUT, login, ticket_number, visitor_asks
from tests.e2e.server import ROOT, GuichetServer

pytestmark = pytest.mark.e2e

QUESTION = "Do you accept payment in bitcoin?"
ANSWER = "Yes, we accept Bitcoin through our partner CoinPay at checkout."


async def test_assist_then_draft_approval_then_the_bot_answers(tmp_path: Path, browser: Any) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "examples" / "kb", kb)
    server = GuichetServer(tmp_path, embedder="hash", GUICHET_KB_SOURCE_DIR=str(kb))
    server.start()
    try:
        server.add_user("olga", PASSWORD, "operator")
        server.add_user("ada", PASSWORD, "admin")
        base = server.base_url
        op = await login(browser, base, "olga")

        # 1. A handed-off password question: the console suggests the KB article.
        visitor = await visitor_asks(browser, base, "How do I reset my forgotten password?")
        await visitor.click(".guichet-quick-reply[data-id=handoff] >> nth=-1")
        number = await ticket_number(visitor)
        await op.locator(f".ticket-row[data-number='{number}']").click()
        item = op.locator("#assist .assist-item[data-article-id='password-reset']")
        await item.wait_for(timeout=TIMEOUT)
        assert "Reset a forgotten password" in await item.inner_text()
        await item.locator(".assist-insert").click()
        inserted = await op.input_value("#reply-text")
        assert "Forgot password" in inserted
        await op.fill("#reply-text", inserted + "\n\nOlga")  # editable before sending
        await op.click("#btn-reply")
        sent = visitor.locator(".guichet-msg[data-author=operator]", has_text="Olga")
        await sent.wait_for(timeout=TIMEOUT)
        assert "Forgot password" in await sent.inner_text()

        # 2. A question the KB cannot answer: handed off, answered and resolved by the operator.
        payer = await visitor_asks(browser, base, QUESTION)
        number = await ticket_number(payer)
        await op.locator(f".ticket-row[data-number='{number}']").click()
        await op.wait_for_selector(f"#ticket-number:has-text('{number}')", timeout=TIMEOUT)
        await op.fill("#reply-text", ANSWER)
        await op.click("#btn-reply")
        await op.wait_for_selector("#conversation .msg[data-author=operator]", timeout=TIMEOUT)
        assert await op.is_disabled("#btn-draft")  # offered once the ticket is resolved
        await op.click("#btn-resolve")
        await op.wait_for_selector("#ticket-status:has-text('resolved')", timeout=TIMEOUT)
        await op.click("#btn-draft")
        await op.wait_for_selector("#draft-notice #draft-link", timeout=TIMEOUT)

        # 3. The admin edits the title and approves: the article goes into a new index version.
        admin = await login(browser, base, "ada")
        await admin.goto(f"{base}/console/admin/drafts")
        row = admin.locator(".draft-row").first
        await row.wait_for(timeout=TIMEOUT)
        await row.locator("a").first.click()
        await admin.wait_for_selector("#draft-title", timeout=TIMEOUT)
        assert await admin.input_value("#draft-body") == ANSWER
        assert QUESTION in await admin.input_value("#draft-questions")
        await admin.fill("#draft-title", "Paying with Bitcoin")
        await admin.click("#btn-approve")
        await admin.wait_for_selector("#draft-done:has-text('approved')", timeout=60_000)
        article_id = await admin.inner_text("#draft-article-id")
        assert article_id.startswith("paying-with-bitcoin-d")
        assert (kb / f"{article_id}.md").exists()
        # The gaps report counts the Bitcoin question and ties it to the approved draft.
        gap = admin.locator("#kb-gaps .gap-cluster", has_text="bitcoin")
        assert await gap.count() == 1 and "Paying with Bitcoin" in await gap.inner_text()

        # 4. The bot now answers that question from the new article.
        again = await visitor_asks(browser, base, QUESTION)
        answer = again.locator(".guichet-msg[data-author=bot]").last
        assert "Paying with Bitcoin" in await answer.inner_text()
        assert "CoinPay" in await answer.inner_text()
    finally:
        server.stop()
