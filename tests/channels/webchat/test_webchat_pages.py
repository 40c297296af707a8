"""The widget's files and the demo page are served with the right types."""

from __future__ import annotations

import re
from typing import Any


async def test_widget_js_is_served_as_javascript(client: Any) -> None:
    resp = await client.get("/widget.js")
    assert resp.status == 200
    assert resp.content_type == "text/javascript"
    assert resp.charset == "utf-8"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    body = await resp.text()
    for hook in ("guichet-launcher", "guichet-panel", "guichet-input", "guichet-send",
                 "guichet-typing", "guichet-quick-reply", "/chat/ws"):
        assert hook in body
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in body  # what people and the bot wrote only goes in textContent


async def test_widget_css_is_served_as_css(client: Any) -> None:
    resp = await client.get("/widget.css")
    assert resp.status == 200
    assert resp.content_type == "text/css"
    assert "#guichet-launcher" in await resp.text()


async def test_demo_page_embeds_the_widget_with_one_script_tag(client: Any) -> None:
    resp = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert resp.status == 200
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert "Colibri" in html and "Help centre" in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 1
    assert 'src="/widget.js"' in scripts[0] and 'data-lang="en"' in scripts[0]
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_demo_page_language_from_query_then_browser(client: Any) -> None:
    french = await (await client.get("/", headers={"Accept-Language": "fr-FR"})).text()
    assert "Centre d" in french and 'data-lang="fr"' in french
    english = await (await client.get("/?lang=en", headers={"Accept-Language": "fr"})).text()
    assert 'lang="en"' in english and 'data-lang="en"' in english
    fallback = await (await client.get("/?lang=<x>")).text()
    assert 'data-lang="fr"' in fallback and "<x>" not in fallback
