"""gateway/web/static/markdown.js, the Markdown subset the console and the widget
render, run in Chromium on its own (no server): what each construct becomes, and that
HTML, javascript: links and other payloads stay inert text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ROOT

pytestmark = pytest.mark.e2e

MARKDOWN_JS = ROOT / "gateway" / "web" / "static" / "markdown.js"


@pytest.fixture
async def md(browser: Any) -> AsyncIterator[Any]:
    page = await (await browser.new_context()).new_page()
    await page.set_content("<!doctype html><html><body><div id=out></div></body></html>")
    await page.add_script_tag(path=str(MARKDOWN_JS))
    yield page
    await page.context.close()


async def render(page: Any, text: str, how: str = "render") -> str:
    html: str = await page.evaluate(
        """([text, how]) => {
            const out = document.getElementById("out");
            out.replaceChildren(GuichetMarkdown[how](text));
            return out.innerHTML;
        }""",
        [text, how],
    )
    return html


CASES = [
    ("**Reset a forgotten password**", "<p><strong>Reset a forgotten password</strong></p>"),
    ("Click **Forgot password?** under the field.",
     "<p>Click <strong>Forgot password?</strong> under the field.</p>"),
    ("*one* and _two_ and __three__", "<p><em>one</em> and <em>two</em> and <strong>three</strong></p>"),
    ("snake_case_name and 2 * 3 * 4", "<p>snake_case_name and 2 * 3 * 4</p>"),
    ("Use `guichet kb index` now", "<p>Use <code>guichet kb index</code> now</p>"),
    ("line one\nline two\n\nnext paragraph", "<p>line one<br>line two</p><p>next paragraph</p>"),
    ("Steps:\n- open **Settings**\n- click Save\n\n1. first\n2. second",
     "<p>Steps:</p><ul><li>open <strong>Settings</strong></li><li>click Save</li></ul>"
     "<ol><li>first</li><li>second</li></ol>"),
    ("3. third\n4. fourth", '<ol start="3"><li>third</li><li>fourth</li></ol>'),
    ("# Title\nbody", '<p class="md-heading"><strong>Title</strong></p><p>body</p>'),
    ("```\n<b>not bold</b>\n**raw**\n```", "<pre><code>&lt;b&gt;not bold&lt;/b&gt;\n**raw**</code></pre>"),
    (r"not \*emphasis\*", "<p>not *emphasis*</p>"),
    ("see [the docs](https://example.com/a_b?x=1&y=2).",
     '<p>see <a href="https://example.com/a_b?x=1&amp;y=2" target="_blank" '
     'rel="noopener noreferrer nofollow">the docs</a>.</p>'),
    ("go to https://example.com/path_with_underscores, then",
     '<p>go to <a href="https://example.com/path_with_underscores" target="_blank" '
     'rel="noopener noreferrer nofollow">https://example.com/path_with_underscores</a>, then</p>'),
    ("write to [us](mailto:support@colibri.example)",
     '<p>write to <a href="mailto:support@colibri.example" target="_blank" '
     'rel="noopener noreferrer nofollow">us</a></p>'),
]


async def test_markdown_subset(md: Any) -> None:
    wrong = [(text, got, html) for text, html in CASES if (got := await render(md, text)) != html]
    assert wrong == []


PAYLOADS = [
    '<script>window.__pwned = 1</script>',
    '<img src=x onerror="window.__pwned = 2">',
    '[click](javascript:window.__pwned=3)',
    '[click](JaVaScRiPt:window.__pwned=4)',
    '[click](data:text/html,<script>window.__pwned=5</script>)',
    '[x](vbscript:msgbox)',
    '**<svg onload="window.__pwned=6">**',
    '<a href="javascript:window.__pwned=7">link</a>',
    '`<iframe src="javascript:window.__pwned=8">`',
    "- <details open ontoggle=window.__pwned=9>",
]


async def test_html_and_script_urls_stay_inert_text(md: Any) -> None:
    for how in ("render", "plain"):
        for payload in PAYLOADS:
            html = await render(md, payload, how)
            found = await md.evaluate(
                """() => {
                    const out = document.getElementById("out");
                    const allowed = new Set(
                        ["P", "BR", "STRONG", "EM", "CODE", "PRE", "UL", "OL", "LI", "A"]);
                    return {
                        tags: [...out.querySelectorAll("*")].map((n) => n.tagName)
                            .filter((t) => !allowed.has(t)),
                        hrefs: [...out.querySelectorAll("a")].map((a) => a.getAttribute("href")),
                        attrs: [...out.querySelectorAll("*")].flatMap((n) => n.getAttributeNames())
                            .filter((a) => !["href", "target", "rel", "class", "start"].includes(a)),
                        pwned: window.__pwned ?? null,
                        text: out.textContent,
                    };
                }"""
            )
            assert found["tags"] == [], (how, html)
            assert found["attrs"] == [], (how, html)
            assert all(h.startswith(("https:", "http:", "mailto:")) for h in found["hrefs"]), (how, html)
            assert found["pwned"] is None
            if "<" in payload:  # angle brackets are shown, not swallowed: visible as text
                assert "<" in found["text"], (how, html)


async def test_plain_keeps_what_the_customer_wrote(md: Any) -> None:
    html = await render(md, "**not bold** 2*3\nsee https://example.com.", "plain")
    assert html == (
        '**not bold** 2*3<br>see <a href="https://example.com" target="_blank" '
        'rel="noopener noreferrer nofollow">https://example.com</a>.'
    )


async def test_a_long_text_renders(md: Any) -> None:
    text = ("A **bold** word and *emphasis* with a https://example.com/link. " * 400 + "\n") * 5
    html = await render(md, text)
    assert html.count("<strong>") == 2000


def test_the_renderer_never_parses_html() -> None:
    source = Path(MARKDOWN_JS).read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "DOMParser"):
        assert sink not in source
