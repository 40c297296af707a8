"""Keyboard and screen-reader use, checked with axe-core (vendored, tests/e2e/vendor)
in Chromium against a real server: no serious or critical violation on the widget (the
demo page, the chat open, with a bot answer) nor on the console (the login page, the
ticket list, an open ticket)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.pages import TIMEOUT, submit_login
from tests.e2e.server import GuichetServer
from tests.e2e.ux import PASSWORD_QUESTION, ChatVisitor, axe_violations, open_ticket, server

pytestmark = pytest.mark.e2e
__all__ = ["server"]  # the module-scoped server fixture


def report(violations: list[dict[str, Any]]) -> str:
    lines = [f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["targets"]) for v in violations]
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_the_widget_with_a_bot_answer(server: GuichetServer, browser: Any, lang: str) -> None:
    ctx = await browser.new_context(bypass_csp=True, locale="en-US")  # axe goes in as an inline script
    page = await ctx.new_page()
    await page.goto(f"{server.base_url}/?lang={lang}")
    await page.locator("#guichet-launcher").wait_for(timeout=TIMEOUT)
    assert (violations := await axe_violations(page)) == [], report(violations)  # closed

    await page.click("#guichet-launcher")
    await page.fill("#guichet-input", PASSWORD_QUESTION)
    await page.keyboard.press("Enter")
    await page.locator(".guichet-msg[data-author=bot]").first.wait_for(timeout=TIMEOUT)
    await page.locator(".guichet-quick-reply").first.wait_for(timeout=TIMEOUT)
    assert (violations := await axe_violations(page)) == [], report(violations)

    # Near the length limit: the counter and the refusal are part of the page too.
    await page.fill("#guichet-input", "x" * 4500)
    await page.keyboard.press("Enter")
    await page.locator("#guichet-notice").wait_for(timeout=TIMEOUT)
    assert (violations := await axe_violations(page)) == [], report(violations)


async def test_the_widget_can_be_used_with_the_keyboard_alone(server: GuichetServer, browser: Any) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{server.base_url}/?lang=en")
    await page.locator("#guichet-launcher").wait_for(timeout=TIMEOUT)
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id === 'guichet-launcher'"):
            break
    else:
        pytest.fail("the launcher is not reachable with Tab")
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "guichet-input"  # focus goes to the input
    assert await page.get_attribute("#guichet-launcher", "aria-expanded") == "true"
    await page.keyboard.type(PASSWORD_QUESTION)
    await page.keyboard.press("Enter")
    await page.locator(".guichet-msg[data-author=bot]").first.wait_for(timeout=TIMEOUT)
    await page.keyboard.press("Escape")  # closes, the focus back on the launcher
    assert await page.is_hidden("#guichet-panel")
    assert await page.evaluate("document.activeElement.id") == "guichet-launcher"


async def test_the_console_login_list_and_ticket(server: GuichetServer, browser: Any) -> None:
    async with ChatVisitor(server.base_url) as visitor:
        await visitor.say(PASSWORD_QUESTION)
        await visitor.bot_says("Reset a forgotten password")
        number = await visitor.hand_off()
        await visitor.say("Still there? **Please** check https://example.com/order/12")

        ctx = await browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
        page = await ctx.new_page()
        await page.goto(f"{server.base_url}/console")
        await page.locator("#username").wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], report(violations)  # login

        await submit_login(page, "olga", "wrong password")  # with its error shown
        await page.locator("#login-error").wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], report(violations)

        await submit_login(page, "olga")
        await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
        await page.locator(f".ticket-row[data-number='{number}']").wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], report(violations)  # the list

        await open_ticket(page, number)
        await page.locator("#assist .assist-item").first.wait_for(timeout=TIMEOUT)
        await page.locator("#conversation .msg-event").first.wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], report(violations)  # a ticket

        await page.click("#btn-take")
        await page.locator("#ticket-status", has_text="open").wait_for(timeout=TIMEOUT)
        await page.route("**/api/conversations/*/reply", lambda route: route.abort())
        await page.fill("#reply-text", "Will fail")
        await page.click("#btn-reply")
        await page.locator("#action-error").wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(page)) == [], report(violations)  # with an error

        narrow = await ctx.new_page()
        await narrow.set_viewport_size({"width": 375, "height": 740})
        await narrow.goto(f"{server.base_url}/console/tickets/{await ticket_id(page, number)}")
        await narrow.locator("#conversation .msg").first.wait_for(timeout=TIMEOUT)
        assert (violations := await axe_violations(narrow)) == [], report(violations)  # on a phone


async def ticket_id(page: Any, number: str) -> str:
    value: str = await page.get_attribute(f".ticket-row[data-number='{number}']", "data-ticket-id")
    return value


async def test_axe_is_really_looking(browser: Any) -> None:
    """The check above can fail: axe reports what a page without names and with
    unreadable text gets wrong."""
    page = await (await browser.new_context()).new_page()
    await page.set_content(
        "<!doctype html><html><body><main><button></button><input>"
        "<p style='color:#eee;background:#fff'>faint</p></main></body></html>"
    )
    found = {v["id"] for v in await axe_violations(page)}
    assert {"button-name", "label", "color-contrast"} <= found
