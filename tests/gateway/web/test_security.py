"""Authentication, CSRF and security headers over the whole console route table."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.flow.bus import InProcessEventBus
from gateway.web import keys
from gateway.web.console import setup_console
from gateway.web.security import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    is_protected,
    is_public,
    safe_next,
    sanitize_html,
)
from tests.gateway.web.conftest import (
    Console,
    FakeOperators,
    build_app,
    csrf_in,
    seed,
    ticket_view,
)


def protected_routes() -> list[tuple[str, str]]:
    """(method, path) of every console/API route that needs a session, read from the
    app itself: a route added later is covered without touching this file."""
    app = web.Application()
    setup_console(app)
    found = []
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or isinstance(route.resource, web.StaticResource):
            continue
        assert route.resource is not None
        path = re.sub(r"\{[^}]+\}", "1", route.resource.canonical)
        if is_protected(path) and not is_public(path):
            found.append((route.method, path))
    return sorted(found)


PROTECTED = protected_routes()
UNSAFE = [(m, p) for m, p in PROTECTED if m in UNSAFE_METHODS]


def test_route_table_is_not_vacuous() -> None:
    paths = {p for _m, p in PROTECTED}
    assert {"/console", "/console/ws", "/api/me", "/api/conversations/1/reply"} <= paths
    assert ("POST", "/console/logout") in UNSAFE
    assert all(not p.startswith("/console/login") for p in paths)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_anonymous_is_refused(console: Console, method: str, path: str) -> None:
    seed(console.operators, ticket_view(1))
    response = await console.client.request(method, path, allow_redirects=False)
    if path.startswith("/api/") or path == "/console/ws":
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"
    else:
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/console/login"
        assert parse_qs(location.query)["next"] == [path]
    assert console.operators.calls == []


async def test_forged_session_cookie_is_refused_and_cleared(console: Console) -> None:
    console.client.session.cookie_jar.update_cookies({SESSION_COOKIE: "forged-value"})
    response = await console.client.get("/api/me")
    assert response.status == 401
    assert response.cookies[SESSION_COOKIE].value == ""


async def test_expired_session_sends_back_to_login(console: Console) -> None:
    await console.login()
    assert (await console.client.get("/api/me")).status == 200
    console.clock.advance(hours=12, seconds=1)
    response = await console.client.get("/console", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/console/login")


@pytest.mark.parametrize(("method", "path"), UNSAFE)
@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_state_change_without_right_csrf_token_is_refused(
    console: Console, method: str, path: str, token: str | None
) -> None:
    seed(console.operators, ticket_view(1))
    await console.login()
    headers = {"X-CSRF-Token": token} if token else {}
    response = await console.client.request(
        method, path, json={"text": "hello", "on": True}, headers=headers, allow_redirects=False
    )
    assert response.status == 403
    assert console.operators.actions == []
    assert (await console.client.get("/api/me")).status == 200  # logout did not happen either


async def test_html_form_may_carry_csrf_in_a_field(console: Console) -> None:
    csrf = await console.login()
    bad = await console.client.post("/console/logout", data={"csrf_token": "nope"})
    assert bad.status == 403
    good = await console.client.post(
        "/console/logout", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert good.status == 302
    assert (await console.client.get("/api/me")).status == 401


async def test_login_post_without_form_token_is_refused(console: Console) -> None:
    data = {"username": "alice", "password": "correct horse battery"}
    response = await console.client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 403
    assert SESSION_COOKIE not in response.cookies


async def test_login_form_token_must_match_its_signed_cookie(console: Console) -> None:
    await console.client.get("/console/login")  # sets a genuine pre-login cookie
    data = {"csrf_token": "attacker-chosen", "username": "alice", "password": "correct horse battery"}
    response = await console.client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 403
    assert SESSION_COOKIE not in response.cookies


async def test_session_cookie_flags(console: Console) -> None:
    response = await console.post_login("alice", "correct horse battery")
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert not cookie["secure"]
    console.app[keys.SETTINGS].console.cookie_secure = True  # behind HTTPS
    console.client.session.cookie_jar.clear()
    form = await console.client.get("/console/login")
    prelogin = form.cookies[PRELOGIN_COOKIE]
    assert prelogin["secure"] and prelogin["httponly"]
    # Our test client speaks plain HTTP, so it would not send a Secure cookie back: do it by hand.
    console.client.session.cookie_jar.update_cookies({PRELOGIN_COOKIE: prelogin.value})
    data = {"csrf_token": csrf_in(await form.text(), "csrf_token"), "username": "alice",
            "password": "correct horse battery"}
    response = await console.client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 302
    assert response.cookies[SESSION_COOKIE]["secure"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/console/tickets/3", "/console/tickets/3"),
        ("/console?x=1", "/console?x=1"),
        ("//evil.example/x", "/console"),
        ("https://evil.example/", "/console"),
        ("/\\evil.example", "/console"),
        ("javascript:alert(1)", "/console"),
        ("/console/login?next=/x", "/console"),
        ("", "/console"),
        (None, "/console"),
    ],
)
def test_safe_next_only_allows_local_paths(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


async def test_login_redirects_to_next_but_never_off_site(console: Console) -> None:
    response = await console.post_login("alice", "correct horse battery", "/console/tickets/7")
    assert response.headers["Location"] == "/console/tickets/7"
    console.client.session.cookie_jar.clear()
    response = await console.post_login("alice", "correct horse battery", "//evil.example/")
    assert response.headers["Location"] == "/console"


def _assert_console_headers(response: aiohttp.ClientResponse) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_security_headers_on_console_api_errors_and_static(console: Console) -> None:
    for path in ("/console/login", "/api/me", "/console/static/console.js", "/api/nothing-here"):
        _assert_console_headers(await console.client.get(path, allow_redirects=False))
    await console.login()
    for path in ("/console", "/api/me", "/api/tickets/999"):
        _assert_console_headers(await console.client.get(path))


async def test_pages_outside_console_keep_their_own_policy(
    settings: Settings, sessions: Any, aiohttp_client: Any
) -> None:
    async def widget_demo(request: web.Request) -> web.Response:
        return web.Response(text="<script src='/widget.js'></script>", content_type="text/html")

    app = build_app(settings, sessions, FakeOperators(), InProcessEventBus(), FakeClock())
    app.router.add_get("/", widget_demo)
    client = await aiohttp_client(app)
    response = await client.get("/")
    assert response.status == 200
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_sanitize_html_removes_script_and_handlers() -> None:
    dirty = (
        '<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script>'
        '<img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'
        '<a href="https://example.org/">ok</a><iframe src="https://evil"></iframe>'
    )
    clean = sanitize_html(dirty)
    assert "<b>there</b>" in clean
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe"):
        assert bad not in clean
    assert 'href="https://example.org/"' in clean
    assert "noopener" in clean
