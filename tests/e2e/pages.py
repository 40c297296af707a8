"""Steps the browser tests share: a visitor asking through the widget, an operator
filling the login form, reading the ticket number the bot gave."""

from __future__ import annotations

import re
from typing import Any

TIMEOUT = 30_000
PASSWORD = "correct horse battery"


async def visitor_asks(browser: Any, base: str, text: str) -> Any:
    """A new visitor opens the widget, sends ``text`` and waits for the bot's reply."""
    visitor = await (await browser.new_context(locale="en-US")).new_page()
    await visitor.goto(f"{base}/")
    await visitor.click("#guichet-launcher")
    await visitor.fill("#guichet-input", text)
    await visitor.click("#guichet-send")
    await visitor.locator(".guichet-msg[data-author=bot]").last.wait_for(timeout=TIMEOUT)
    return visitor


async def last_bot_text(visitor: Any) -> str:
    text: str = await visitor.locator(".guichet-msg[data-author=bot]").last.inner_text()
    return text


async def submit_login(page: Any, name: str, password: str = PASSWORD) -> None:
    await page.fill("#username", name)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def login(browser: Any, base: str, name: str, password: str = PASSWORD) -> Any:
    """An operator logs in to the console and waits until its live updates are on."""
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base}/console")
    await submit_login(page, name, password)
    await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
    return page


async def ticket_number(visitor: Any) -> str:
    """The G-… number the bot told the visitor on handoff."""
    msg = visitor.locator(".guichet-msg[data-author=bot]", has_text=re.compile(r"G-\d+"))
    await msg.wait_for(timeout=TIMEOUT)
    found = re.search(r"G-\d+", await msg.inner_text())
    assert found is not None
    return found.group(0)
