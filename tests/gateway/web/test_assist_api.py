"""Agent assist, drafts and KB gaps through the console's HTTP API and pages,
against the real core: suggestions for a handed-off conversation, a draft from a
resolved ticket, approval by an admin only, the gaps section."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from gateway.auth import create_user
from gateway.views import UserView
from gateway.web.keys import KB_ADMIN_PORT, RETRIEVER
from tests.gateway.conftest import Core
from tests.gateway.flow.test_policy import RETRIEVER as TABLE_RETRIEVER
from tests.gateway.kb.test_drafts import FakeKBAdmin, resolved_ticket
from tests.gateway.web.test_console_with_store import console_app, login


@pytest.fixture
async def admin(core: Core) -> UserView:
    return await create_user(core.store.sessions, "ada", "correct horse battery", "admin", "Ada")


KB = web.AppKey("test_fake_kb_admin", FakeKBAdmin)


@pytest.fixture
def app(core: Core) -> web.Application:
    app = console_app(core)
    app[RETRIEVER] = TABLE_RETRIEVER
    app[KB] = app[KB_ADMIN_PORT] = FakeKBAdmin()
    return app


async def test_suggestions_for_a_handed_off_conversation(
    core: Core, operator: UserView, app: web.Application, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(app)
    anonymous = await client.get("/api/conversations/1/suggestions")
    assert anonymous.status == 401
    await login(client, "olga")
    r = await core.channel.receive("How do I reset my password?", user="bob")
    await core.drain()
    await core.channel.receive("No, talk to a person", user="bob", quick_reply="handoff")
    await core.drain()
    response = await client.get(f"/api/conversations/{r.conversation_id}/suggestions")
    assert response.status == 200
    data = await response.json()
    assert data["questions"] == ["How do I reset my password?"]
    first = data["suggestions"][0]
    assert first["article_id"] == "password-reset" and first["title"] == "Title password-reset"
    assert first["answer"] == "Answer of password-reset." and first["snippet"]
    assert first["confidence"] == 0.9 and data["suggestions"][1]["confidence"] < 0.9
    assert (await client.get("/api/conversations/999/suggestions")).status == 404
    assert (await client.get(f"/api/conversations/{r.conversation_id}/suggestions?k=0")).status == 400


async def test_console_page_has_the_assist_panel_and_draft_button(
    core: Core, operator: UserView, app: web.Application, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(app)
    await login(client, "olga")
    ticket_id = await resolved_ticket(core, operator)
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    for needle in ('id="assist"', 'id="assist-list"', 'id="btn-draft"', 'href="/console/admin/drafts"'):
        assert needle in page


async def test_draft_from_a_resolved_ticket_then_admin_approval(
    core: Core, operator: UserView, admin: UserView, app: web.Application, aiohttp_client: Any
) -> None:
    ticket_id = await resolved_ticket(core, operator)
    olga = await aiohttp_client(app)
    csrf = await login(olga, "olga")
    created = await olga.post(f"/api/tickets/{ticket_id}/draft", json={}, headers={"X-CSRF-Token": csrf})
    assert created.status == 201
    draft = (await created.json())["draft"]
    assert draft["title"] == "Where is my invoice for March?" and draft["status"] == "draft"

    # Operators see the draft but cannot approve it.
    page = await (await olga.get(f"/console/admin/drafts/{draft['id']}")).text()
    assert f'class="draft-row selected" data-draft-id="{draft["id"]}"' in page
    assert 'id="draft-title"' in page and 'id="btn-approve"' not in page
    denied = await olga.post(f"/api/drafts/{draft['id']}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert denied.status == 403
    form = {"csrf_token": csrf, "title": "x", "body": "y", "questions": ""}
    path = f"/console/admin/drafts/{draft['id']}/approve"
    refused = await olga.post(path, data=form, allow_redirects=False)
    assert refused.status == 403 and app[KB].articles == {}

    # The admin edits the title in the form and approves: article written, KB re-indexed.
    ada = await aiohttp_client(app)
    csrf = await login(ada, "ada")
    page = await (await ada.get(f"/console/admin/drafts/{draft['id']}")).text()
    assert 'id="btn-approve"' in page and 'id="btn-reject"' in page and 'id="draft-body"' in page
    form = {"csrf_token": csrf, "title": "Download an invoice", "body": "Account > Billing > Invoices.",
            "questions": "Where is my invoice?\nInvoice copy"}
    done = await ada.post(f"/console/admin/drafts/{draft['id']}/approve", data=form, allow_redirects=False)
    assert done.status == 302 and done.headers["Location"].endswith("?done=approved")
    kb = app[KB]
    [(article_id, article)] = kb.articles.items()
    assert article["title"] == "Download an invoice" and article["body"] == "Account > Billing > Invoices."
    assert article["questions"] == ["Where is my invoice?", "Invoice copy"] and kb.reindexed == 1
    shown = await (await ada.get(done.headers["Location"])).text()
    assert f'<code id="draft-article-id">{article_id}</code>' in shown and "btn-approve" not in shown


async def test_gaps_section_and_api_rank_topics_by_volume(
    core: Core, operator: UserView, app: web.Application, aiohttp_client: Any
) -> None:
    for user in ("a1", "a2", "a3"):
        await core.channel.receive("Where is my invoice for March?", user=user)
    await core.channel.receive("What is the weather like?", user="b1")
    await core.drain()
    client = await aiohttp_client(app)
    await login(client, "olga")
    report = await (await client.get("/api/kb/gaps?days=7")).json()
    assert [c["count"] for c in report["clusters"]] == [3, 1]
    assert report["clusters"][0]["representative"] == "Where is my invoice for March?"
    page = await (await client.get("/console/admin/drafts")).text()
    assert 'id="kb-gaps"' in page and page.count('class="gap-cluster"') == 2
    assert (await client.get("/api/kb/gaps?days=0")).status == 400
