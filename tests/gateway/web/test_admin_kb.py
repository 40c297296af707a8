"""The knowledge-base admin page and its API: who may use them, CSRF, and the flows
(edit, upload, re-index with progress, rollback) against a real KBAdmin on disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.auth import create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.flow.bus import InProcessEventBus
from gateway.kb.admin import KBAdmin
from gateway.web.kb_admin_page import setup_admin
from gateway.web.keys import KB_ADMIN
from kb_index.embedder import HashEmbedder
from kb_index.retriever import KBRetriever
from kb_index.versions import current_version
from tests.gateway.web.conftest import PASSWORD, FakeOperators, build_app, csrf_in
from tests.kb_index.conftest import write_kb

Client = TestClient[web.Request, web.Application]


@dataclass
class AdminSite:
    client: Client
    admin: KBAdmin
    retriever: KBRetriever
    kb: Path

    async def login(self, name: str) -> str:
        form = await self.client.get("/console/login")
        token = csrf_in(await form.text(), "csrf_token")
        data = {"csrf_token": token, "username": name, "password": PASSWORD, "next": "/admin/kb"}
        response = await self.client.post("/console/login", data=data, allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == "/admin/kb"
        page = await self.client.get("/console")
        return csrf_in(await page.text(), "csrf-token")

    async def call(self, method: str, path: str, csrf: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers={"X-CSRF-Token": csrf}, **kwargs)
        return response.status, await response.json()


@pytest.fixture
async def site(
    settings: Settings, sessions: Any, tmp_path: Path,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> AsyncIterator[AdminSite]:
    await create_user(sessions, "root", PASSWORD, "admin", "Root")
    await create_user(sessions, "alice", PASSWORD, "operator", "Alice")
    kb = write_kb(tmp_path / "kb")
    embedder = HashEmbedder(256)
    bus = InProcessEventBus()
    retriever = KBRetriever(tmp_path / "index", embedder)
    admin = KBAdmin(kb, tmp_path / "index", embedder, bus=bus, retriever=retriever)
    app = build_app(settings, sessions, FakeOperators(), bus, FakeClock())
    setup_admin(app, retriever, admin=admin)
    client = await aiohttp_client(app)
    yield AdminSite(client, admin, retriever, kb)
    retriever.close()


async def test_anonymous_visitors_are_sent_to_the_login_form(site: AdminSite) -> None:
    for path in ("/admin/kb", "/admin"):
        response = await site.client.get(path, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == f"/console/login?next={path.replace('/', '%2F')}"
    response = await site.client.get("/api/admin/kb/articles")
    assert response.status == 401 and (await response.json())["error"] == "unauthorized"


async def test_operators_get_403_everywhere(site: AdminSite) -> None:
    csrf = await site.login("alice")
    page = await site.client.get("/admin/kb")
    assert page.status == 403 and "Admins only" in await page.text()
    for method, path in (("GET", "/api/admin/kb/articles"), ("POST", "/api/admin/kb/reindex"),
                         ("PUT", "/api/admin/kb/articles/x"), ("GET", "/api/admin/kb/versions")):
        status, data = await site.call(method, path, csrf, json={})
        assert (status, data["error"]) == (403, "forbidden"), path
    assert site.admin.status().stage == "idle"


async def test_writes_need_the_csrf_token(site: AdminSite) -> None:
    await site.login("root")
    body = {"title": "Hours", "lang": "en", "tags": [], "body": "9 to 18."}
    response = await site.client.put("/api/admin/kb/articles/hours", json=body)
    assert response.status == 403 and (await response.json())["error"] == "csrf"
    response = await site.client.post("/api/admin/kb/reindex", headers={"X-CSRF-Token": "forged"})
    assert response.status == 403
    assert not (site.kb / "hours.md").exists() and site.admin.status().stage == "idle"


async def test_the_page_lists_articles_escaped_with_its_stable_ids(site: AdminSite) -> None:
    csrf = await site.login("root")
    status, _ = await site.call("POST", "/api/admin/kb/articles", csrf, json={
        "id": "xss", "title": "<script>alert(1)</script>", "lang": "en", "tags": ["<b>"], "body": "Body."})
    assert status == 201
    response = await site.client.get("/admin/kb")
    html = await response.text()
    assert response.status == 200
    assert "Content-Security-Policy" in response.headers
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for marker in ('id="kb-articles"', 'class="kb-article" data-id="password-reset"', 'id="kb-reindex"',
                   '<progress id="kb-progress"', 'id="kb-status"', 'id="kb-versions"', 'id="art-id"',
                   'id="art-title"', 'id="art-lang"', 'id="art-tags"', 'id="art-body"', 'id="art-save"',
                   'id="kb-upload-file"', 'id="kb-upload"'):
        assert marker in html, marker


async def test_edit_and_create_through_the_api(site: AdminSite) -> None:
    csrf = await site.login("root")
    status, data = await site.call("PUT", "/api/admin/kb/articles/refunds", csrf, json={
        "title": "Refunds", "lang": "en", "tags": "billing, refund", "body": "Refunds take 5 days.",
        "questions": "Where is my refund?\nWhen do I get my money?"})
    assert status == 200 and data["saved"] == {"id": "refunds", "path": "refunds.md", "created": False}
    assert data["article"]["questions"] == ["Where is my refund?", "When do I get my money?"]
    status, data = await site.call("POST", "/api/admin/kb/articles", csrf, json={
        "id": "refunds", "title": "Dup", "body": "x"})
    assert status == 409 and "already exists" in data["message"]
    status, data = await site.call("POST", "/api/admin/kb/articles", csrf, json={
        "id": "../../etc/passwd", "title": "x", "body": "x"})
    assert status == 400 and "id must be" in data["message"]
    status, data = await site.call("PUT", "/api/admin/kb/articles/shipping", csrf, json={
        "title": "Shipping", "body": "x"})
    assert status == 409 and "faq.csv" in data["message"]
    status, data = await site.call("GET", "/api/admin/kb/articles/nope", csrf)
    assert status == 404
    status, data = await site.call("DELETE", "/api/admin/kb/articles/password-reset", csrf)
    assert status == 200 and data["path"] == "account/reset.md"
    status, data = await site.call("GET", "/api/admin/kb/articles", csrf)
    assert {a["id"] for a in data["articles"]} == {"refunds", "shipping", "livraison"}


async def test_uploads_are_checked_before_they_are_kept(site: AdminSite) -> None:
    csrf = await site.login("root")

    def form(name: str, data: bytes) -> aiohttp.FormData:
        f = aiohttp.FormData()
        f.add_field("file", data, filename=name, content_type="application/octet-stream")
        return f

    status, data = await site.call("POST", "/api/admin/kb/upload", csrf,
                                   data=form("hours.txt", b"Opening hours\nWe answer from 9 to 18."))
    assert status == 201 and data == {"filename": "hours.txt", "articles": ["hours"], "replaced": False}
    status, data = await site.call("POST", "/api/admin/kb/upload", csrf,
                                   data=form("bad.csv", b"question,answer\nq,a\n"))
    assert status == 400 and "missing column(s) id" in data["message"]
    site.admin.max_upload_bytes = 100
    status, data = await site.call("POST", "/api/admin/kb/upload", csrf, data=form("big.txt", b"x" * 500))
    assert status == 413
    status, data = await site.call("POST", "/api/admin/kb/upload", csrf, json={"file": "x"})
    assert status == 400 and data["error"] == "invalid_upload"
    assert {p.name for p in site.kb.iterdir()} >= {"hours.txt"}
    assert not {"bad.csv", "big.txt"} & {p.name for p in site.kb.iterdir()}


async def wait_done(site: AdminSite, csrf: str) -> dict[str, Any]:
    for _ in range(200):
        _, status = await site.call("GET", "/api/admin/kb/status", csrf)
        if not status["running"]:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError("the re-index did not finish")


async def test_reindex_then_roll_back(site: AdminSite) -> None:
    csrf = await site.login("root")
    status, data = await site.call("POST", "/api/admin/kb/reindex", csrf)
    assert status == 202 and data["started"] is True and data["status"]["running"] is True
    status, again = await site.call("POST", "/api/admin/kb/reindex", csrf)
    assert status == 202 and again["started"] is False  # joined the running build
    first = await wait_done(site, csrf)
    assert first["stage"] == "done" and first["done"] == first["total"] > 0
    assert site.retriever.version == first["version"]

    await site.call("PUT", "/api/admin/kb/articles/refunds", csrf, json={
        "title": "Refunds for yearly plans", "lang": "en", "body": "Refunds go to a store voucher."})
    await site.call("POST", "/api/admin/kb/reindex", csrf)
    second = await wait_done(site, csrf)
    assert second["report"]["embedded"] < second["report"]["reused"]  # only the edit was embedded
    assert "store voucher" in (await site.retriever.search("refunds yearly")).hits[0].answer

    _, listed = await site.call("GET", "/api/admin/kb/versions", csrf)
    assert [(v["version"], v["current"], v["usable"]) for v in listed["versions"]] == [
        (second["version"], True, True), (first["version"], False, True)]
    status, data = await site.call("POST", f"/api/admin/kb/versions/{first['version']}/activate", csrf)
    assert status == 200 and data["current"] is True
    assert current_version(site.admin.index_dir) == first["version"] == site.retriever.version
    assert "refunded in full" in (await site.retriever.search("refunds yearly")).hits[0].answer
    status, data = await site.call("POST", "/api/admin/kb/versions/20990101-000000-000000/activate", csrf)
    assert status == 404


async def test_setup_admin_builds_its_service_from_the_app(
    settings: Settings, sessions: Any, tmp_path: Path
) -> None:
    settings.kb.source_dir = str(write_kb(tmp_path / "kb"))
    app = build_app(settings, sessions, FakeOperators(), InProcessEventBus(), FakeClock())
    retriever = KBRetriever(settings.index_path, HashEmbedder(128))
    service = setup_admin(app, retriever)
    assert app[KB_ADMIN] is service
    assert service.embedder is retriever.embedder  # one model in memory, not two
    assert service.source_dir == Path(settings.kb.source_dir)
    retriever.close()
