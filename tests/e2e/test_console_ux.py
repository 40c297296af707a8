"""The console as a new operator meets it, in Chromium against a real server: the
newest message in view at 1280×720, Markdown rendered safely (payloads inert, in the
console and in the widget), events in words, clear errors that keep the text, a usable
375 px layout, and the queue by keyboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.pages import TIMEOUT, last_bot_text, submit_login, ticket_number, visitor_asks
from tests.e2e.server import GuichetServer
from tests.e2e.ux import PASSWORD_QUESTION, ChatVisitor, console_page, open_ticket, server, until

pytestmark = pytest.mark.e2e
__all__ = ["server"]  # the module-scoped server fixture

PAYLOAD = (
    "**Bold reply** <img src=x onerror=\"window.__pwned=1\"> "
    "[click me](javascript:window.__pwned=2) <script>window.__pwned=3</script> "
    "[the docs](https://example.com/docs)"
)

CUSTOMER_PAYLOAD = '<b>customer</b> **as typed** <img src=x onerror="window.__pwned=4">'

LAST_VISIBLE = """() => {
    const box = document.getElementById("conversation");
    const msgs = box.querySelectorAll(".msg");
    const last = msgs[msgs.length - 1].getBoundingClientRect();
    const view = box.getBoundingClientRect();
    return last.bottom <= view.bottom + 1 && last.bottom <= window.innerHeight + 1
        && last.top >= view.top - 1;
}"""

SETTLED = """() => new Promise((done) =>
    requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"""
SCROLLS = """(() => { const b = document.getElementById("conversation");
    return b.scrollHeight > b.clientHeight; })()"""
FOCUS_OUTLINE = """(() => { const s = getComputedStyle(document.activeElement);
    return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"""


async def ticket_with_history(base: str, extra: int) -> tuple[ChatVisitor, str]:
    """A visitor who got a KB answer, asked for a person, then wrote ``extra`` more
    messages of three lines each; the visitor (still connected) and the ticket number."""
    visitor = ChatVisitor(base)
    await visitor.connect()
    await visitor.say(PASSWORD_QUESTION)
    await visitor.bot_says("Reset a forgotten password")
    number = await visitor.hand_off()
    for n in range(1, extra + 1):
        ack = await visitor.say(f"Detail {n} of my problem.\nIt still does not work.\nMessage number {n}.")
        assert ack["type"] == "ack", ack
    return visitor, number


async def test_the_newest_message_is_in_view_after_opening_at_1280x720(
    server: GuichetServer, browser: Any
) -> None:
    visitor, number = await ticket_with_history(server.base_url, 14)
    try:
        page = await console_page(browser, server.base_url, width=1280, height=720)
        await open_ticket(page, number)
        await page.locator("#conversation .msg", has_text="Message number 14.").wait_for(timeout=TIMEOUT)
        # The suggestions panel fills in after the conversation (and shrinks its box).
        await page.locator("#assist .assist-item").first.wait_for(timeout=TIMEOUT)
        await page.evaluate(SETTLED)
        assert await page.evaluate(SCROLLS)  # there is something to scroll
        assert await page.evaluate(LAST_VISIBLE)

        # The same when the page is loaded at the ticket's address.
        await page.reload()
        await page.locator("#assist .assist-item").first.wait_for(timeout=TIMEOUT)
        await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
        await page.evaluate(SETTLED)
        assert await page.evaluate(LAST_VISIBLE)

        # A new message from the customer comes into view too.
        await visitor.say("One more thing: URGENT please.")
        await page.locator("#conversation .msg", has_text="URGENT please").wait_for(timeout=TIMEOUT)
        await page.evaluate(SETTLED)
        assert await page.evaluate(LAST_VISIBLE)

        # But an operator who scrolled up to read is left where they are.
        await page.evaluate("document.getElementById('conversation').scrollTop = 0")
        await page.evaluate(SETTLED)
        await visitor.say("And another one.")
        await page.locator("#conversation .msg", has_text="And another one.").wait_for(timeout=TIMEOUT)
        await page.evaluate(SETTLED)
        assert await page.evaluate("document.getElementById('conversation').scrollTop") == 0
    finally:
        await visitor.close()


async def test_markdown_is_rendered_and_payloads_stay_inert(server: GuichetServer, browser: Any) -> None:
    base = server.base_url
    visitor = await visitor_asks(browser, base, PASSWORD_QUESTION)
    assert "Reset a forgotten password" in await last_bot_text(visitor)
    await visitor.click(".guichet-quick-reply[data-id=handoff] >> nth=-1")
    number = await ticket_number(visitor)
    await visitor.fill("#guichet-input", CUSTOMER_PAYLOAD)
    await visitor.click("#guichet-send")
    stored = visitor.locator(".guichet-msg[data-author=customer][data-message-id]", has_text="as typed")
    await stored.wait_for(timeout=TIMEOUT)

    page = await console_page(browser, base)
    await open_ticket(page, number)
    bot = page.locator("#conversation .msg-bot", has_text="Reset a forgotten password").first
    await bot.wait_for(timeout=TIMEOUT)
    assert "**" not in await bot.inner_text()
    assert await bot.locator("strong", has_text="Reset a forgotten password").count() == 1
    # The customer's text is shown exactly as typed: no markup, nothing run.
    customer = page.locator("#conversation .msg-customer", has_text="as typed")
    assert "<b>customer</b> **as typed** <img" in await customer.inner_text()
    assert await customer.locator("b, img, strong").count() == 0

    # An inserted article is sent as Markdown and shown rendered.
    await page.locator("#assist .assist-insert").first.click()
    await page.fill("#reply-text", (await page.input_value("#reply-text")) + "\n\n" + PAYLOAD)
    await page.click("#btn-reply")
    mine = page.locator("#conversation .msg-operator", has_text="Bold reply")
    await mine.wait_for(timeout=TIMEOUT)
    theirs = visitor.locator(".guichet-msg[data-author=operator]", has_text="Bold reply")
    await theirs.wait_for(timeout=TIMEOUT)
    for where, node in (("console", mine), ("widget", theirs)):
        text = await node.inner_text()
        assert "**" not in text, where
        assert await node.locator("strong", has_text="Bold reply").count() == 1, where
        assert await node.locator("strong", has_text="Forgot password?").count() == 1, where  # the article's
        assert await node.locator("img, script").count() == 0, where
        assert "<script>window.__pwned=3</script>" in text, where  # shown, not run
        assert await node.locator("a[href^='javascript']").count() == 0, where
        assert "click me" in text, where
        assert await node.locator("a[href='https://example.com/docs']").count() == 1, where
    for side in (page, visitor):
        assert await side.evaluate("window.__pwned === undefined")


async def test_events_and_reasons_are_in_words(server: GuichetServer, browser: Any) -> None:
    async with ChatVisitor(server.base_url) as visitor:
        number = await visitor.hand_off()
        page = await console_page(browser, server.base_url)
        await open_ticket(page, number)
        event = page.locator("#conversation .msg-event", has_text=f"Ticket {number} opened")
        await event.wait_for(timeout=TIMEOUT)
        assert "(the customer asked for a person)" in await event.inner_text()
        assert await page.inner_text("#ticket-reason") == "the customer asked for a person"
        assert await page.inner_text("#ticket-channel") == "Web chat"
        assert "explicit_request" not in await page.inner_text("#ticket-pane")
        await page.click("#btn-take")
        await page.locator("#conversation .msg-event", has_text="took over").wait_for(timeout=TIMEOUT)

        # The page rendered by the server says the same.
        await page.reload()
        assert "(the customer asked for a person)" in await page.inner_text("#conversation")
        assert "explicit_request" not in await page.inner_text("body")
        assert "_" not in await page.inner_text("#ticket-status")


async def test_a_failed_reply_says_what_happened_and_keeps_the_text(
    server: GuichetServer, browser: Any
) -> None:
    async with ChatVisitor(server.base_url) as visitor:
        number = await visitor.hand_off()
        page = await console_page(browser, server.base_url)
        await open_ticket(page, number)
        text = "Here is how to fix it: open Settings."
        error = page.locator("#action-error")

        # The server cannot be reached at all (what fetch reports as "Failed to fetch").
        await page.route("**/api/conversations/*/reply", lambda route: route.abort("connectionrefused"))
        await page.fill("#reply-text", text)
        await page.click("#btn-reply")
        await error.wait_for(state="visible", timeout=TIMEOUT)
        said = await error.inner_text()
        assert "Failed to fetch" not in said
        assert "The reply was not sent" in said and "text is kept" in said and "cannot be reached" in said
        assert await page.input_value("#reply-text") == text

        # The server answers with an error.
        await page.unroute("**/api/conversations/*/reply")
        await page.route(
            "**/api/conversations/*/reply",
            lambda route: route.fulfill(
                status=503, json={"error": "unavailable", "message": "database is locked"}
            ),
        )
        await page.click("#btn-reply")
        await until(page, "document.getElementById('action-error').textContent.includes('error 503')")
        said = await error.inner_text()
        assert "The reply was not sent" in said and "Database is locked" in said
        assert await page.input_value("#reply-text") == text

        # Back to normal: the kept text goes out, the error goes away.
        await page.unroute("**/api/conversations/*/reply")
        await page.click("#btn-reply")
        await page.locator("#conversation .msg-operator", has_text="open Settings").wait_for(timeout=TIMEOUT)
        await until(page, "document.getElementById('reply-text').value === ''")
        assert await error.is_hidden()


async def test_usable_at_375_px(server: GuichetServer, browser: Any) -> None:
    visitor, number = await ticket_with_history(server.base_url, 3)
    try:
        page = await console_page(
            browser, server.base_url, width=375, height=740, is_mobile=True, has_touch=True
        )
        no_sideways = "document.documentElement.scrollWidth <= window.innerWidth"
        assert await page.evaluate(no_sideways)
        assert await page.is_visible(f".ticket-row[data-number='{number}']")
        assert await page.is_hidden("#ticket-pane")

        # The list, then the ticket alone, then back to the list.
        await page.locator(f".ticket-row[data-number='{number}'] .col-subject").tap()
        await page.wait_for_selector(f"#ticket-number:has-text('{number}')", timeout=TIMEOUT)
        await page.locator("#conversation .msg", has_text="Message number 3.").wait_for(timeout=TIMEOUT)
        assert await page.is_hidden(".queue")
        assert await page.evaluate(no_sideways)
        for control in ("#btn-take", "#reply-text", "#btn-reply", "#btn-back"):
            box = await page.locator(control).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, control
        await page.fill("#reply-text", "Sent from a phone.")
        await page.locator("#btn-reply").tap()
        sent = page.locator("#conversation .msg-operator", has_text="Sent from a phone.")
        await sent.wait_for(timeout=TIMEOUT)
        assert await page.evaluate(no_sideways)
        await page.locator("#btn-back").tap()
        await page.wait_for_selector(".queue", state="visible", timeout=TIMEOUT)
        assert await page.is_hidden("#ticket-pane")
        assert page.url.endswith("/console")
    finally:
        await visitor.close()


async def test_the_queue_by_keyboard(server: GuichetServer, browser: Any) -> None:
    async with ChatVisitor(server.base_url) as first, ChatVisitor(server.base_url) as second:
        await first.hand_off()
        await second.hand_off()
        page = await console_page(browser, server.base_url)
        await until(page, "document.querySelectorAll('#ticket-list .ticket-row').length >= 2")

        # Tab reaches the queue: one stop for the whole list, on a row.
        for _ in range(20):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.classList.contains('ticket-row')"):
                break
        else:
            pytest.fail("no ticket row is reachable with Tab")
        outline = await page.evaluate(FOCUS_OUTLINE)
        assert outline[0] != "none" and outline[1] >= 2  # the focus is visible

        # Arrow down moves to the next row; Enter opens it.
        rows = await page.eval_on_selector_all(
            "#ticket-list .ticket-row", "(rows) => rows.map((r) => r.dataset.number)"
        )
        start = rows.index(await page.evaluate("document.activeElement.dataset.number"))
        await page.keyboard.press("ArrowDown")
        target = rows[min(start + 1, len(rows) - 1)]
        assert await page.evaluate("document.activeElement.dataset.number") == target
        await page.keyboard.press("Enter")
        await page.wait_for_selector(f"#ticket-number:has-text('{target}')", timeout=TIMEOUT)
        assert await page.get_attribute(f".ticket-row[data-number='{target}']", "aria-current") == "true"
        # The focus stays on the queue row when the queue re-renders.
        assert await page.evaluate("document.activeElement.dataset.number") == target


NOTIFICATION_SPY = """(() => {
    const Real = window.Notification;
    if (typeof Real !== "function") return;
    window.__notes = [];
    class Spy extends Real {
        constructor(title, options) {
            window.__notes.push({ title, body: options && options.body, tag: options && options.tag });
            super(title, options);
        }
    }
    Object.defineProperty(Spy, "permission", { get: () => Real.permission });
    Spy.requestPermission = (...args) => Real.requestPermission(...args);
    window.Notification = Spy;
})()"""


async def test_desktop_notifications_for_assignments_and_reminders(
    server: GuichetServer, browser: Any
) -> None:
    """The events are the ticket desk's (gateway/tickets: ``ticket.assigned``,
    ``appointment.due``), injected here into the console's live socket."""
    async with ChatVisitor(server.base_url) as visitor:
        number = await visitor.hand_off()
        # Without permission: a button to ask, and nothing asked on load.
        asking = await console_page(browser, server.base_url)
        assert await asking.is_visible("#btn-notify")
        assert await asking.evaluate("Notification.permission") == "default"

        ctx = await browser.new_context(
            viewport={"width": 1280, "height": 720}, permissions=["notifications"]
        )
        await ctx.add_init_script(NOTIFICATION_SPY)
        page = await ctx.new_page()
        sockets: list[Any] = []

        def relay(ws: Any) -> None:  # pass everything through, and keep a handle to push frames
            ws.connect_to_server()
            sockets.append(ws)

        await page.route_web_socket("**/console/ws", relay)
        await page.goto(f"{server.base_url}/console")
        await submit_login(page, "olga")
        await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
        row = page.locator(f".ticket-row[data-number='{number}']")
        await row.wait_for(timeout=TIMEOUT)
        ticket_id = int(await row.get_attribute("data-ticket-id") or "0")
        me = int(await page.get_attribute('meta[name="user-id"]', "content") or "0")
        assert await page.is_hidden("#btn-notify")  # already allowed

        def push(kind: str, data: dict[str, Any]) -> None:
            sockets[-1].send(json.dumps({"type": kind, "data": data}))

        assigned = {"ticket_id": ticket_id, "number": number, "subject": "Cannot log in", "by": "Ada"}
        push("ticket.assigned", {**assigned, "user_id": me + 1})  # a colleague's: not for olga
        push("ticket.assigned", {**assigned, "user_id": me, "by": "olga"})  # took it herself
        push("ticket.assigned", {**assigned, "user_id": me})
        push("appointment.due", {"id": 7, "ticket_id": ticket_id, "ticket_number": number,
                                 "kind": "callback", "owner_id": me, "phone": "+33 1 23 45 67 89",
                                 "note": "Invoice question"})
        notes = await until(page, "window.__notes.length >= 2 && window.__notes")
        assert [n["title"] for n in notes] == [
            f"Ticket {number} assigned to you by Ada",
            f"Callback due: ticket {number}",
        ]
        assert notes[1]["body"] == "Call +33 1 23 45 67 89 · Invoice question"
