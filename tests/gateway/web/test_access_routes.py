"""Every route of the whole application refuses whoever may not use it: anonymous
callers, a role without the route's permission, a wrong, revoked or expired API
token, a token of a deactivated account, and a token without the route's scope.
Only the public routes listed here are open.  The routes are read from the app
itself (``app.router.routes()``): a route added later is checked without editing
this file, and one that should be public must be added to PUBLIC below."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.audit import Actor
from gateway.auth import create_session, create_token, create_user, revoke_token, set_active
from gateway.auth.roles import (
    ACCOUNTS_ADMIN,
    ADMIN,
    AUDIT_READ,
    AUTHENTICATED,
    CONSOLE,
    CUSTOMERS_GDPR,
    CUSTOMERS_WRITE,
    JOBS_ADMIN,
    KB_ADMIN,
    ROLES,
    SCOPES,
    grants,
)
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.web import keys
from gateway.web.access import roles_with
from gateway.web.security import SESSION_COOKIE
from tests.gateway.conftest import StubRetriever

PASSWORD = "correct horse battery"
ACTOR = Actor.system("test")

# The public routes, and only these: the web-chat widget and its socket, health
# checks, the login form, the console's static files.
PUBLIC = {
    ("GET", "/"), ("GET", "/widget.js"), ("GET", "/widget.css"), ("GET", "/chat/ws"),
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/console/login"), ("POST", "/console/login"), ("GET", "/console/static/{filename}"),
    # satisfaction surveys: the unguessable one-time token in the address is the credential
    # (an unknown token is a 404, tested in tests/gateway/reports/test_csat.py)
    ("GET", r"/csat/{token}"), ("POST", r"/csat/{token}"),
}
TOKEN_PAGES = {("GET", r"/csat/{token}"), ("POST", r"/csat/{token}")}
# Not called as an allowed role: logging out ends the session; the socket needs an Origin.
NOT_CALLED_AS_ALLOWED = {("POST", "/console/logout"), ("GET", "/console/ws")}


@dataclass
class Route:
    method: str
    path: str  # canonical: /api/tickets/{id}
    permission: str

    def url(self, ids: str = "1") -> str:
        def fill(match: re.Match[str]) -> str:
            name, _, regex = match.group(1).partition(":")
            if regex and "|" in regex:
                return regex.split("|")[0]
            return ids if name == "id" or regex == r"\d+" else "v1"

        return re.sub(r"\{([^}]+)\}", fill, self.raw)

    raw: str = ""


def routes_of(app: web.Application) -> list[Route]:
    from gateway.web.access import required_permission

    found = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "OPTIONS", "*"):
            continue
        if isinstance(resource, web.StaticResource):
            found.append(Route(route.method, resource.canonical + "/{filename}", "public",
                               raw=resource.canonical + "/console.css"))
            continue
        raw = resource.get_info().get("formatter") or resource.canonical
        orig = getattr(resource, "_orig_path", raw)
        permission = required_permission(route.method, resource.canonical, route.handler)
        found.append(Route(route.method, resource.canonical, permission, raw=orig))
    return found


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    routes: list[Route]
    sessions: dict[str, tuple[str, str]]  # role -> (cookie, csrf)
    tokens: dict[str, str]

    async def call(self, route: Route, *, role: str | None = None, token: str | None = None,
                   ids: str = "1") -> aiohttp.ClientResponse:
        headers: dict[str, str] = {}
        if role is not None:
            cookie, csrf = self.sessions[role]
            headers.update({"Cookie": f"{SESSION_COOKIE}={cookie}", "X-CSRF-Token": csrf})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kw: dict[str, Any] = {"json": {}} if route.method in ("POST", "PUT", "PATCH") else {}
        response = await self.client.request(route.method, route.url(ids), headers=headers,
                                             allow_redirects=False, **kw)
        await response.read()
        return response

    @property
    def protected(self) -> list[Route]:
        return [r for r in self.routes if (r.method, r.path) not in PUBLIC]


@pytest.fixture
async def site(settings: Settings, tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Site]:
    settings.kb.source_dir = str(tmp_path / "kb")
    (tmp_path / "kb").mkdir()
    settings.email.enabled = True  # its routes too (no SMTP listener: nothing to receive here)
    settings.email.smtp_listen = False
    app = create_app(settings, retriever=StubRetriever())
    client = await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())
    db, clock = app[keys.SESSIONS], SystemClock()
    sessions, users = {}, {}
    for role in ROLES:
        user = await create_user(db, f"{role}-user", PASSWORD, role)
        users[role] = user
        sessions[role] = await create_session(db, user.id, clock, 1)
    admin = users[ADMIN].name
    tokens = {}
    tokens["full"], _ = await create_token(db, "full", admin, list(SCOPES), actor=ACTOR, clock=clock)
    tokens["audit_only"], _ = await create_token(db, "audit", admin, [AUDIT_READ], actor=ACTOR, clock=clock)
    tokens["kb_only"], _ = await create_token(db, "kb", admin, [KB_ADMIN], actor=ACTOR, clock=clock)
    tokens["revoked"], view = await create_token(db, "revoked", admin, list(SCOPES), actor=ACTOR, clock=clock)
    await revoke_token(db, view.id, actor=ACTOR, clock=clock)
    tokens["expired"], _ = await create_token(db, "expired", admin, list(SCOPES), actor=ACTOR, clock=clock,
                                              expires_at=clock.now() + timedelta(milliseconds=1))
    spare = await create_user(db, "spare-admin", PASSWORD, ADMIN)
    tokens["deactivated"], _ = await create_token(db, "gone", spare.name, list(SCOPES), actor=ACTOR,
                                                  clock=clock)
    await set_active(db, spare.name, False, actor=ACTOR, clock=clock)
    yield Site(client, routes_of(app), sessions, tokens)


def is_refused_anonymously(route: Route, response: aiohttp.ClientResponse) -> bool:
    if route.path.startswith("/api/") or route.path == "/console/ws":
        return response.status == 401
    return response.status == 302 and response.headers["Location"].startswith("/console/login?next=")


async def test_only_the_listed_routes_are_public(site: Site) -> None:
    found = {(r.method, r.path) for r in site.routes}
    assert found >= PUBLIC, f"listed public but gone: {PUBLIC - found}"
    assert {("GET", "/api/openapi.json"), ("POST", "/api/customers/{id}/erase"),
            ("GET", "/admin/accounts"), ("GET", "/api/tickets")} <= found  # not vacuous
    assert any(path.startswith("/api/mail") for _m, path in found)  # the email room's routes too
    open_to_all = []
    for route in site.protected:
        response = await site.call(route)
        if not is_refused_anonymously(route, response):
            open_to_all.append(f"{route.method} {route.path}: {response.status}")
    assert open_to_all == []
    for method, path in sorted(PUBLIC - {("POST", "/console/login"), ("GET", "/chat/ws")} - TOKEN_PAGES):
        route = next(r for r in site.routes if (r.method, r.path) == (method, path))
        assert (await site.call(route)).status == 200, path


async def test_a_role_without_the_permission_is_refused(site: Site) -> None:
    wrong = []
    checked = 0
    for route in site.protected:
        for role in ROLES:
            if route.permission in grants(role):
                continue
            checked += 1
            response = await site.call(route, role=role)
            if response.status != 403:
                wrong.append(f"{role} {route.method} {route.path}: {response.status}")
    assert wrong == [] and checked > 40


async def test_the_roles_with_the_permission_are_let_through(site: Site) -> None:
    refused = []
    for route in site.protected:
        if (route.method, route.path) in NOT_CALLED_AS_ALLOWED:
            continue
        for role in roles_with(route.permission):
            response = await site.call(route, role=role, ids="999999")
            if response.status in (401, 403):
                refused.append(f"{role} {route.method} {route.path}: {response.status}")
    assert refused == []


@pytest.mark.parametrize("kind", ["wrong", "revoked", "expired", "deactivated", "malformed"])
async def test_a_bad_token_is_refused_everywhere(site: Site, kind: str) -> None:
    token = {"wrong": "gch_" + "x" * 43, "malformed": "not-a-token"}.get(kind) or site.tokens[kind]
    accepted = []
    for route in site.protected:
        response = await site.call(route, token=token)
        if response.status != 401:
            accepted.append(f"{route.method} {route.path}: {response.status}")
    assert accepted == []


async def test_a_token_without_the_scope_is_refused_and_with_it_let_through(site: Site) -> None:
    wrong, refused = [], []
    api = [r for r in site.protected if r.path.startswith("/api/")]
    for route in api:
        if route.permission != AUTHENTICATED:
            other = "kb_only" if route.permission != KB_ADMIN else "audit_only"
            response = await site.call(route, token=site.tokens[other])
            if response.status != 403:
                wrong.append(f"{other} {route.method} {route.path}: {response.status}")
        response = await site.call(route, token=site.tokens["full"], ids="999999")
        if response.status in (401, 403):
            refused.append(f"{route.method} {route.path}: {response.status}")
    assert wrong == [] and refused == []
    assert all(r.permission != CONSOLE for r in api)  # the console permission is for pages only


async def test_pages_do_not_take_tokens(site: Site) -> None:
    pages = [r for r in site.protected if not r.path.startswith("/api/")]
    assert pages
    for route in pages:
        assert (await site.call(route, token=site.tokens["full"])).status == 401, route.path


def test_what_only_admins_and_supervisors_may_do(site: Site) -> None:
    by_key = {(r.method, r.path): r for r in site.routes}
    for route in site.routes:
        if route.path.startswith(("/api/admin/", "/admin/")) or route.path == "/admin":
            assert roles_with(route.permission) == [ADMIN], route.path
    assert by_key[("GET", "/api/customers/{id}/export")].permission == CUSTOMERS_GDPR
    assert by_key[("POST", "/api/customers/{id}/erase")].permission == CUSTOMERS_GDPR
    assert roles_with(CUSTOMERS_GDPR) == [ADMIN]
    assert by_key[("POST", "/api/admin/tokens")].permission == ACCOUNTS_ADMIN
    assert by_key[("POST", "/api/admin/jobs/{id}/retry")].permission == JOBS_ADMIN
    assert roles_with(by_key[("GET", "/api/audit")].permission) == ["supervisor", "admin"]
    assert by_key[("POST", "/api/customers/{id}/merge")].permission == CUSTOMERS_WRITE
    assert roles_with(CUSTOMERS_WRITE) == ["supervisor", "admin"]


async def test_ids_too_large_for_the_database_are_refused_never_a_crash(site: Site) -> None:
    """An id in the path beyond the database's integers (2**31 on PostgreSQL, 2**63 on
    SQLite) is "not found" (or a 400 for the body we send), never a 500."""
    crashed, checked = [], 0
    for route in site.protected:
        if (route.method, route.path) in NOT_CALLED_AS_ALLOWED or route.url("7") == route.url("8"):
            continue  # no id in its path
        for ids in ("2147483648", "99999999999999999999"):
            checked += 1
            response = await site.call(route, role=ADMIN, ids=ids)
            if response.status >= 500 or response.status == 200:
                crashed.append(f"{route.method} {route.path} {ids}: {response.status}")
    assert crashed == [] and checked > 40
