"""The accounts admin page and API, the customers API by token, and the audit
trail of what operators do through the web (logins, take-over, reply, resolve)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from channels.fake import FakeChannel
from gateway.app import create_app
from gateway.audit import Actor, list_entries
from gateway.auth import SCOPES, create_token, create_user
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.web import keys
from tests.gateway.conftest import StubRetriever

PASSWORD = "correct horse battery"


class Site:
    def __init__(self, app: web.Application, client: TestClient[web.Request, web.Application],
                 channel: FakeChannel) -> None:
        self.app, self.client, self.channel = app, client, channel
        self.csrf = ""

    async def login(self, name: str, password: str = PASSWORD) -> int:
        self.client.session.cookie_jar.clear()  # whoever was logged in before
        form = await self.client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', await form.text())
        assert token
        response = await self.client.post("/console/login", allow_redirects=False, data={
            "csrf_token": token.group(1), "username": name, "password": password, "next": "/admin/accounts"})
        if response.status == 302:
            page = await self.client.get("/console")
            found = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
            self.csrf = found.group(1) if found else ""
        return response.status

    async def form(self, path: str, data: dict[str, Any]) -> aiohttp.ClientResponse:
        return await self.client.post(path, data={"csrf_token": self.csrf, **data}, allow_redirects=False)

    async def actions(self, prefix: str = "") -> list[str]:
        entries = await list_entries(self.app[keys.SESSIONS], action=prefix or None, limit=200)
        return [e.action for e in reversed(entries)]


@pytest.fixture
async def site(settings: Settings, tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Site]:
    settings.kb.source_dir = str(tmp_path / "kb")
    (tmp_path / "kb").mkdir()
    channel = FakeChannel()
    app = create_app(settings, retriever=StubRetriever(), extra_channels=[channel])
    client = await aiohttp_client(app)
    db = app[keys.SESSIONS]
    await create_user(db, "root", PASSWORD, "admin")
    await create_user(db, "olga", PASSWORD, "operator", "Olga")
    yield Site(app, client, channel)


async def test_an_admin_manages_accounts_and_tokens_on_the_page(site: Site) -> None:
    assert await site.login("root") == 302
    response = await site.form("/admin/accounts/users", {"name": "sam", "password": PASSWORD,
                                                         "role": "supervisor", "display_name": "Sam"})
    assert response.status == 302 and response.headers["Location"] == "/admin/accounts?done=created"
    page = await (await site.client.get("/admin/accounts?done=created")).text()
    assert "The account is created." in page and "sam" in page
    users = (await (await site.client.get("/api/admin/users")).json())["users"]
    sam_id = next(u["id"] for u in users if u["name"] == "sam")
    assert (await site.form(f"/admin/accounts/users/{sam_id}/role", {"role": "operator"})).status == 302
    assert (await site.form(f"/admin/accounts/users/{sam_id}/active", {"active": "0"})).status == 302
    assert await site.login("sam") == 401  # deactivated
    await site.login("root")
    bad = await site.form(f"/admin/accounts/users/{sam_id}/password", {"password": "short"})
    assert bad.status == 400 and "at least 8" in await bad.text()
    token_form = {"name": "CRM", "user": str(sam_id), "scope": "tickets:read"}
    refused = await site.form("/admin/accounts/tokens", token_form)
    assert refused.status == 409 and "deactivated" in await refused.text()
    assert (await site.form(f"/admin/accounts/users/{sam_id}/active", {"active": "1"})).status == 302
    created = await site.form("/admin/accounts/tokens", {"name": "CRM", "user": str(sam_id), "days": "30",
                                                         "scope": ["tickets:read"]})
    text = await created.text()
    secret = re.search(r"gch_[A-Za-z0-9_-]{43}", text)
    assert created.status == 201 and secret and "shown only once" in text
    again = await (await site.client.get("/admin/accounts")).text()
    assert secret.group(0) not in again and secret.group(0)[:10] in again
    assert await site.actions("user.") == ["user.create", "user.create", "user.create", "user.role",
                                           "user.deactivate", "user.activate"]
    assert (await site.actions("token."))[-1] == "token.create"


async def test_an_operator_cannot_open_the_accounts_page_or_api(site: Site) -> None:
    assert await site.login("olga") == 302
    page = await site.client.get("/admin/accounts")
    assert page.status == 403 and "Admins only" in await page.text()
    response = await site.client.post("/api/admin/users", json={"name": "x", "password": PASSWORD},
                                      headers={"X-CSRF-Token": site.csrf})
    assert response.status == 403 and (await response.json())["error"] == "forbidden"
    assert "user.create" not in (await site.actions())[2:]


async def test_the_web_trail_records_logins_and_operator_actions(site: Site) -> None:
    await site.channel.receive("I want to talk to a person", user="alice", message_id="a1")
    await site.app[keys.RUNNER].run_once()
    [ticket] = await site.app[keys.OPERATORS].list_tickets()
    assert await site.login("olga", "wrong password") == 401
    assert await site.login("olga") == 302
    headers = {"X-CSRF-Token": site.csrf}
    assert (await site.client.post(f"/api/tickets/{ticket.id}/take", headers=headers)).status == 200
    reply = await site.client.post(f"/api/conversations/{ticket.conversation_id}/reply",
                                   json={"text": "Hello Alice, I am on it"}, headers=headers)
    assert reply.status == 201
    assert (await site.client.post(f"/api/tickets/{ticket.id}/resolve", headers=headers)).status == 200
    entries = await list_entries(site.app[keys.SESSIONS], limit=20)
    by_action = {e.action: e for e in entries}
    failed = by_action["auth.login_failed"]
    assert (failed.actor_kind, failed.actor_name) == ("anonymous", "olga")
    assert by_action["auth.login"].actor_name == "olga"
    take = by_action["ticket.take"]
    assert (take.subject_type, take.subject_id, take.actor_name) == ("ticket", str(ticket.id), "olga")
    assert (take.before or {})["status"] == "new" and (take.after or {})["status"] == "open"
    assert (take.after or {})["assignee_id"] is not None
    said = by_action["conversation.reply"]
    assert (said.after or {})["message_id"] == (await reply.json())["message"]["id"]
    assert "Hello Alice" not in repr([e.before for e in entries] + [e.after for e in entries])  # no text
    assert (by_action["ticket.resolve"].after or {})["status"] == "resolved"


async def test_the_customers_api_by_token_with_gdpr_for_admins_only(site: Site) -> None:
    result = await site.channel.receive("Hello", user="alice")
    db, clock = site.app[keys.SESSIONS], SystemClock()
    system = Actor.system()
    admin_token, view = await create_token(db, "dpo", "root", list(SCOPES), actor=system, clock=clock)
    olga_token, _ = await create_token(db, "panel", "olga", ["customers:read"], actor=system, clock=clock)
    found = await site.client.get(f"/api/customers?conversation_id={result.conversation_id}",
                                  headers={"Authorization": f"Bearer {olga_token}"})
    [customer] = (await found.json())["customers"]
    detail = await (await site.client.get(f"/api/customers/{customer['id']}",
                                          headers={"Authorization": f"Bearer {olga_token}"})).json()
    assert [i["address"] for i in detail["identities"]] == ["alice"]
    denied = await site.client.get(f"/api/customers/{customer['id']}/export",
                                   headers={"Authorization": f"Bearer {olga_token}"})
    assert denied.status == 403
    admin = {"Authorization": f"Bearer {admin_token}"}
    export = await site.client.get(f"/api/customers/{customer['id']}/export", headers=admin)
    assert export.status == 200 and (await export.json())["messages"][0]["text"] == "Hello"
    unconfirmed = await site.client.post(f"/api/customers/{customer['id']}/erase", json={}, headers=admin)
    assert unconfirmed.status == 400
    erased = await site.client.post(f"/api/customers/{customer['id']}/erase", json={"confirm": True},
                                    headers=admin)
    assert erased.status == 200 and (await erased.json())["removed"]["messages"] >= 1
    entries = await list_entries(db, subject_type="customer", subject_id=customer["id"])
    assert [(e.action, e.actor_kind, e.token_id) for e in entries] == [
        ("customer.erase", "token", view.id), ("customer.export", "token", view.id)]
