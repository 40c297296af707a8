"""The widget as a customer meets it, in Chromium against a real server: an over-long
message refused visibly (and by the server with a clear error frame), a long answer
shown from its start, full screen without zoom on a phone, a header that keeps one
line while reconnecting, the bot's name on its messages, Markdown rendered safely, a
demo page about the product the sample knowledge base documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from tests.e2e.pages import TIMEOUT
from tests.e2e.server import ROOT, GuichetServer
from tests.e2e.ux import PASSWORD_QUESTION, ChatVisitor, server
from tests.support.services import free_port

pytestmark = pytest.mark.e2e
__all__ = ["server"]  # the module-scoped server fixture


async def demo(browser: Any, base: str, *, width: int = 1280, height: int = 800, lang: str = "en") -> Any:
    ctx = await browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    page = await ctx.new_page()
    await page.goto(f"{base}/?lang={lang}")
    await page.click("#guichet-launcher")
    await page.wait_for_selector("#guichet-panel", state="visible", timeout=TIMEOUT)
    return page


async def ask(page: Any, text: str) -> Any:
    """Send ``text`` and wait for the bot's next message; returns its locator."""
    before = await page.locator(".guichet-msg[data-author=bot]").count()
    await page.fill("#guichet-input", text)
    await page.click("#guichet-send")
    answer = page.locator(".guichet-msg[data-author=bot]").nth(before)
    await answer.wait_for(timeout=TIMEOUT)
    return answer


async def test_an_over_long_message_is_refused_visibly_and_kept(server: GuichetServer, browser: Any) -> None:
    page = await demo(browser, server.base_url)
    await page.locator("#guichet-status").wait_for(state="hidden", timeout=TIMEOUT)  # connected
    pasted = "word " * 4000  # 20,000 characters, five times the limit
    await page.fill("#guichet-input", pasted)
    assert len(await page.input_value("#guichet-input")) == 20_000  # not cut by the browser
    assert await page.is_visible("#guichet-count.guichet-over")
    await page.click("#guichet-send")

    notice = page.locator("#guichet-notice")
    await notice.wait_for(state="visible", timeout=TIMEOUT)
    said = await notice.inner_text()
    assert "20,000" in said and "4,000" in said and "not sent" in said
    assert await page.input_value("#guichet-input") == pasted  # the text is kept
    assert await page.locator(".guichet-msg[data-author=customer]").count() == 0  # nothing sent
    assert await page.get_attribute("#guichet-input", "aria-invalid") == "true"

    # Shortened under the limit: the notice goes, the message goes out whole.
    short = "word " * 700
    await page.fill("#guichet-input", short)
    await notice.wait_for(state="hidden", timeout=TIMEOUT)
    await page.click("#guichet-send")
    sent = page.locator(".guichet-msg[data-author=customer]").first
    await sent.wait_for(timeout=TIMEOUT)
    assert (await sent.locator(".guichet-text").inner_text()).strip() == short.strip()


async def test_the_server_refuses_an_over_long_message_with_a_clear_error(server: GuichetServer) -> None:
    async with ChatVisitor(server.base_url) as visitor:
        for text in ("x" * 4001, "word " * 4000):  # over the characters, then over the frame bytes
            error = await visitor.say(text)
            assert error["type"] == "error" and error["code"] == "too_large"
            assert "4000 characters" in error["message"] and "not saved" in error["message"]
        ok = await visitor.say("x" * 4000)
        assert ok["type"] == "ack"


async def test_a_long_answer_opens_at_its_start(server: GuichetServer, browser: Any) -> None:
    page = await demo(browser, server.base_url, width=1280, height=640)
    answer = await ask(page, PASSWORD_QUESTION)
    geometry = await answer.evaluate(
        """(node) => {
            const log = document.getElementById("guichet-log");
            const box = log.getBoundingClientRect(), msg = node.getBoundingClientRect();
            return { logTop: box.top, logBottom: box.bottom, msgTop: msg.top, msgHeight: msg.height,
                     author: node.querySelector(".guichet-author").getBoundingClientRect().top };
        }"""
    )
    assert geometry["msgHeight"] > geometry["logBottom"] - geometry["logTop"]  # longer than the log
    # Its first lines (the bot's name, the title) are in view, not its last one.
    assert geometry["logTop"] - 1 <= geometry["author"] <= geometry["logTop"] + 40
    assert "Reset a forgotten password" in await answer.inner_text()


async def test_bot_answers_carry_its_name_and_render_markdown(server: GuichetServer, browser: Any) -> None:
    page = await demo(browser, server.base_url)
    answer = await ask(page, PASSWORD_QUESTION)
    assert await answer.locator(".guichet-author").inner_text() == "Colibri assistant"
    assert "**" not in await answer.inner_text()
    assert await answer.locator("strong", has_text="Reset a forgotten password").count() == 1
    assert await answer.locator("strong", has_text="Forgot password?").count() == 1

    # French page: the French name.
    french = await demo(browser, server.base_url, lang="fr")
    answer = await ask(french, "J'ai oublié mon mot de passe, comment le réinitialiser ?")
    assert await answer.locator(".guichet-author").inner_text() == "Assistant Colibri"


async def test_on_a_phone_the_chat_is_full_screen_and_does_not_zoom(
    server: GuichetServer, browser: Any
) -> None:
    page = await demo(browser, server.base_url, width=375, height=667)
    panel = await page.locator("#guichet-panel").bounding_box()
    assert panel == {"x": 0, "y": 0, "width": 375, "height": 667}
    size = await page.eval_on_selector("#guichet-input", "(el) => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 16  # below 16 px, phone browsers zoom in on focus
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    # The header's × closes it and gives the launcher back.
    await page.click(".guichet-close")
    await page.wait_for_selector("#guichet-launcher", state="visible", timeout=TIMEOUT)


async def test_the_header_keeps_one_line_while_reconnecting(server: GuichetServer, browser: Any) -> None:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = await ctx.new_page()
    await page.route_web_socket("**/chat/ws", lambda ws: ws.close())  # the server "goes away"
    await page.goto(f"{server.base_url}/?lang=en")
    await page.click("#guichet-launcher")
    await page.locator("#guichet-status", has_text="Reconnecting").wait_for(timeout=TIMEOUT)
    assert await page.is_visible("#guichet-status")  # said, under the header
    lines = await page.locator(".guichet-title").evaluate(
        """(el) => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"""
    )
    assert lines < 1.5
    close = await page.locator(".guichet-close").bounding_box()
    header = await page.locator(".guichet-header").bounding_box()
    assert close is not None and header is not None
    assert close["y"] + close["height"] <= header["y"] + header["height"]  # × still in the header's line


async def test_the_demo_page_presents_the_sample_knowledge_base(server: GuichetServer, browser: Any) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{server.base_url}/?lang=en")
    text = await page.inner_text("body")
    hours = (ROOT / "examples" / "kb" / "support" / "contact-hours.md").read_text()
    assert "Monday to Friday from 9:00 to 18:00 (Paris time)" in hours
    assert "Monday to Friday from 9:00 to 18:00 (Paris time)" in text
    assert "Invoice" in text and "Online shop" in text
    assert "bike" not in text.lower() and "ride" not in text.lower()
    await page.goto(f"{server.base_url}/?lang=fr")
    french = await page.inner_text("body")
    assert "du lundi au vendredi de 9 h à 18 h (heure de Paris)" in french
    assert "vélo" not in french.lower()


async def test_a_host_site_user_is_sent_with_the_hello(server: GuichetServer, browser: Any) -> None:
    """A host site (its own server, another origin) naming its logged-in user: the
    widget's hello carries the user id and the host's HMAC (checked by the server,
    docs/security.md)."""
    host = (
        "<!doctype html><html lang=en><head><title>Host</title></head><body><main>Shop</main>"
        f'<script src="{server.base_url}/widget.js" data-user-id="42" data-user-hash="{"ab" * 32}"></script>'
        "</body></html>"
    )

    async def page_handler(_request: web.Request) -> web.Response:
        return web.Response(text=host, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        page = await (await browser.new_context(locale="en-US")).new_page()
        sent: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.click("#guichet-launcher")
        await page.locator("#guichet-status").wait_for(state="hidden", timeout=TIMEOUT)  # welcomed
        hello = json.loads(next(frame for frame in sent if '"hello"' in frame))
        assert (hello["user_id"], hello["user_hash"]) == ("42", "ab" * 32)
    finally:
        await runner.cleanup()
