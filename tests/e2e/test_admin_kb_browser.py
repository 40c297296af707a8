"""The knowledge-base admin page in a real browser against a real server: an admin
edits an article, re-indexes (the progress bar reaches the end while the server
keeps serving), and the chat bot answers from the new content; then a rollback
makes the previous version live again.

The server runs on a copy of the sample KB (the editor writes into it) with the
deterministic hash embedder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.pages import PASSWORD, TIMEOUT, last_bot_text, submit_login, visitor_asks
from tests.e2e.server import ROOT, GuichetServer

pytestmark = pytest.mark.e2e

NEW_TEXT = "Phone support: call the Zephyr hotline on 01 23 45 67 89, on Saturday mornings only."
QUESTION = "What is the phone number of the Zephyr hotline?"


async def bot_answer(browser: Any, base: str, text: str) -> str:
    visitor = await visitor_asks(browser, base, text)
    answer = await last_bot_text(visitor)
    await visitor.context.close()
    return answer


async def test_admin_edits_reindexes_and_the_bot_answers(tmp_path: Path, browser: Any) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "examples" / "kb", kb)
    server = GuichetServer(tmp_path, embedder="hash", GUICHET_KB_SOURCE_DIR=str(kb))
    server.start()
    try:
        server.add_user("ada", PASSWORD, "admin")
        base = server.base_url
        assert "Zephyr" not in await bot_answer(browser, base, QUESTION)

        page = await (await browser.new_context()).new_page()
        problems: list[str] = []  # script errors, CSP violations
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(f"{base}/admin/kb")
        assert "/console/login" in page.url  # anonymous: the login form, then back here
        await submit_login(page, "ada")
        await page.wait_for_selector("body[data-ready=yes]", timeout=TIMEOUT)
        assert page.url.endswith("/admin/kb")
        assert await page.locator("#kb-versions .kb-version").count() == 1  # built at start

        # Edit an existing article in the editor and save it.
        await page.click(".kb-article[data-id='contact-hours']")
        await expect(page.locator("#art-id")).to_have_value("contact-hours", timeout=TIMEOUT)
        body = await page.input_value("#art-body")
        assert "We do not offer phone support." in body
        await page.fill("#art-body", body.replace("We do not offer phone support.", NEW_TEXT))
        await page.fill("#art-tags", "support, contact, hours, phone")
        await page.fill("#art-questions", "Which phone number has the Zephyr hotline?")
        await page.click("#art-save")
        await page.wait_for_selector("#art-message:has-text('Saved to')", timeout=TIMEOUT)
        assert NEW_TEXT in (kb / "support" / "contact-hours.md").read_text("utf-8")

        # Re-index: the progress bar fills up and the new version goes live.
        await page.click("#kb-reindex")
        await page.wait_for_selector("#kb-status[data-stage=done]", timeout=60_000)
        progress = page.locator("progress#kb-progress")
        assert await progress.get_attribute("value") == await progress.get_attribute("max")
        assert "is live" in await page.inner_text("#kb-status")
        versions = page.locator("#kb-versions .kb-version")
        await expect(versions).to_have_count(2, timeout=TIMEOUT)
        assert await versions.nth(0).get_attribute("class") == "kb-version current"

        # The bot answers from the edited article.
        answer = await bot_answer(browser, base, QUESTION)
        assert "Contact support and opening hours" in answer and "01 23 45 67 89" in answer

        # Roll back: the older version is live again and the bot no longer knows the hotline.
        older = await versions.nth(1).get_attribute("data-version")
        await versions.nth(1).locator(".kb-rollback").click()
        await page.wait_for_selector(f".kb-version.current[data-version='{older}']", timeout=TIMEOUT)
        assert "01 23 45 67 89" not in await bot_answer(browser, base, QUESTION)
        assert problems == []
    finally:
        server.stop()
