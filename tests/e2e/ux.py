"""What the console and widget UX tests share: one real server per test module (the
hash embedder on the sample KB: quick to start, answers the password question), a
visitor driven over the chat WebSocket (quicker than a browser when only the data
matters), axe-core injected into a page."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.pages import PASSWORD, TIMEOUT, submit_login
from tests.e2e.server import GuichetServer

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PASSWORD_QUESTION = "How do I reset my forgotten password?"
HANDOFF = "I want to talk to a person"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuichetServer]:
    """A real ``guichet serve`` shared by the tests of one module, with an operator
    ``olga``.  Tests add their own visitors and tickets and never assume an empty queue."""
    srv = GuichetServer(tmp_path_factory.mktemp("ux"), embedder="hash")
    srv.start()
    try:
        srv.add_user("olga", PASSWORD, "operator")
        yield srv
    finally:
        srv.stop()


class ChatVisitor:
    """A visitor speaking the widget's wire protocol (channels/webchat/PROTOCOL.md)."""

    def __init__(self, base: str) -> None:
        self.url = base.replace("http", "ws", 1) + "/chat/ws"
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.frames: list[dict[str, Any]] = []
        self.sent = 0

    async def __aenter__(self) -> ChatVisitor:
        await self.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def connect(self) -> dict[str, Any]:
        """(Re)open the socket, resuming the visitor's token when it has one."""
        await self.close()
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.url)
        await self.ws.send_json({"type": "hello", "token": self.token, "lang": "en", "name": "Bea Customer"})
        welcome = await self.until(lambda f: f["type"] == "welcome")
        self.token = welcome["token"]
        return welcome

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        self.ws = self.session = None

    async def until(self, match: Any, timeout: float = TIMEOUT / 1000) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            msg = await self.ws.receive(timeout=timeout)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            self.frames.append(frame)
            if match(frame):
                return frame

    async def say(self, text: str) -> dict[str, Any]:
        """Send one message and wait for its ack (or its error)."""
        assert self.ws is not None
        self.sent += 1
        client_id = f"m-{self.sent}"
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        return await self.until(lambda f: f["type"] in ("ack", "error") and f.get("id") == client_id)

    async def bot_says(self, pattern: str) -> str:
        """Wait for a message of the bot whose text matches ``pattern``."""
        frame = await self.until(
            lambda f: f["type"] == "message" and f["message"]["author"] == "bot"
            and re.search(pattern, f["message"]["text"]) is not None
        )
        return str(frame["message"]["text"])

    async def hand_off(self) -> str:
        """Ask for a person; the ticket number the bot gives."""
        await self.say(HANDOFF)
        text = await self.bot_says(r"G-\d+")
        found = re.search(r"G-\d+", text)
        assert found is not None
        return found.group(0)


async def console_page(
    browser: Any, base: str, *, width: int = 1280, height: int = 720, **context: Any
) -> Any:
    """Olga logged in to the console, its live feed on, in a window of that size."""
    ctx = await browser.new_context(viewport={"width": width, "height": height}, **context)
    page = await ctx.new_page()
    await page.goto(f"{base}/console")
    await submit_login(page, "olga")
    await page.wait_for_selector("#conn-status:has-text('live')", timeout=TIMEOUT)
    return page


async def open_ticket(page: Any, number: str) -> None:
    """Click the ticket's row and wait until its conversation is shown."""
    await page.locator(f".ticket-row[data-number='{number}']").click()
    await page.wait_for_selector(f"#ticket-number:has-text('{number}')", timeout=TIMEOUT)
    await page.locator("#conversation .msg").first.wait_for(timeout=TIMEOUT)


async def axe_violations(page: Any, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (or inside ``context``,
    a CSS selector), each as {id, impact, help, targets}.  The page's context must be
    created with ``bypass_csp=True``: axe goes in as an inline script."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(AXE))
    results = await page.evaluate(
        """async (context) => {
            const r = await axe.run(context ? document.querySelector(context) : document,
                                    { resultTypes: ["violations"] });
            return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary) }));
        }""",
        context,
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]


async def until(page: Any, expression: str, timeout: float = TIMEOUT / 1000) -> Any:
    """Poll ``expression`` in the page until it is truthy (its value), else fail.

    Not ``page.wait_for_function``: its polling evaluates strings inside the page,
    which the console's and the demo page's Content-Security-Policy (no
    'unsafe-eval') refuse."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await page.evaluate(expression)
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        await asyncio.sleep(0.1)

