"""The widget's files and the demo page of Colibri, the fictional invoicing and
online-shop software whose help centre the sample knowledge base (examples/kb) is."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

import gateway.web

HERE = Path(__file__).parent
STATIC = HERE / "static"
# The safe Markdown renderer the console uses too; /widget.js carries it in front of
# the widget so that host pages still load one script.
MARKDOWN_JS = Path(gateway.web.__file__).parent / "static" / "markdown.js"
LANGS = ("fr", "en")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)

# The demo page loads nothing but our own widget; the widget only talks to us.
_DEMO_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'"
)


def _asset(body: bytes, content_type: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",  # the widget runs on other sites
        },
    )


async def widget_js(_request: web.Request) -> web.Response:
    body = MARKDOWN_JS.read_bytes() + b"\n" + (STATIC / "widget.js").read_bytes()
    return _asset(body, "text/javascript")


async def widget_css(_request: web.Request) -> web.Response:
    return _asset((STATIC / "widget.css").read_bytes(), "text/css")


def page_lang(request: web.Request) -> str:
    """``?lang=fr|en``, else the browser's first preference, else French."""
    asked = request.query.get("lang", "")
    if asked in LANGS:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in LANGS:
            return primary
    return "fr"


async def demo_page(request: web.Request) -> web.Response:
    html = _env.get_template("demo.html").render(lang=page_lang(request))
    return web.Response(
        text=html,
        content_type="text/html",
        headers={"Content-Security-Policy": _DEMO_CSP, "X-Content-Type-Options": "nosniff"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget.css", widget_css)
    app.router.add_get("/", demo_page)
