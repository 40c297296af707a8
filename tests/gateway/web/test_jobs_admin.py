"""The jobs admin page and its API: who may use them, CSRF, and a retry flipping a
dead job (rows written straight into the jobs table) back to queued."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import create_user
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.tables import Job, Message
from gateway.flow.bus import InProcessEventBus
from gateway.flow.jobs import JobRunner
from gateway.web import keys
from gateway.web.jobs_admin import setup_jobs_admin
from tests.gateway.web.conftest import PASSWORD, FakeOperators, build_app, csrf_in
from tests.support.job_rows import add_job, add_message

Client = TestClient[web.Request, web.Application]
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class FakeRunner:
    wakes: list[int] = field(default_factory=list)

    def wake(self) -> None:
        self.wakes.append(1)


@dataclass
class Site:
    client: Client
    sessions: Sessions
    clock: FakeClock
    runner: FakeRunner

    async def login(self, name: str) -> str:
        form = await self.client.get("/console/login")
        token = csrf_in(await form.text(), "csrf_token")
        data = {"csrf_token": token, "username": name, "password": PASSWORD, "next": "/console"}
        response = await self.client.post("/console/login", data=data, allow_redirects=False)
        assert response.status == 302
        page = await self.client.get("/console")
        return csrf_in(await page.text(), "csrf-token")

    async def call(self, method: str, path: str, csrf: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        return response.status, await response.json()

    async def job(self, job_id: int) -> Job:
        async with self.sessions() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            return job


@pytest.fixture
async def site(
    settings: Settings, sessions: Sessions,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> Site:
    await create_user(sessions, "root", PASSWORD, "admin", "Root")
    await create_user(sessions, "alice", PASSWORD, "operator", "Alice")
    clock = FakeClock()
    app = build_app(settings, sessions, FakeOperators(), InProcessEventBus(), clock)
    setup_jobs_admin(app)
    runner = FakeRunner()
    app[keys.RUNNER] = cast(JobRunner, runner)  # the app's job runner: only wake() is called
    return Site(await aiohttp_client(app), sessions, clock, runner)


async def dead_send(site: Site, error: str = "SMTPDataError: 554 rejected\nTraceback ...") -> tuple[int, int]:
    """A dead send job of a failed message in a conversation with a ticket: (job id, ticket id)."""
    now = site.clock.now()
    mid, _, ticket = await add_message(site.sessions, now, delivery="failed",
                                       meta={"delivery_detail": "554"}, ticket=True)
    assert ticket is not None
    return await add_job(site.sessions, now, kind="send", payload={"message_id": mid}, error=error), ticket


async def test_anonymous_visitors_are_sent_to_the_login_form(site: Site) -> None:
    response = await site.client.get("/admin/jobs", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/console/login?next=%2Fadmin%2Fjobs"
    status, data = await site.call("GET", "/api/admin/jobs")
    assert (status, data["error"]) == (401, "unauthorized")
    status, data = await site.call("POST", "/api/admin/jobs/1/retry")
    assert status == 401


async def test_operators_get_403_everywhere(site: Site) -> None:
    job_id, _ = await dead_send(site)
    csrf = await site.login("alice")
    page = await site.client.get("/admin/jobs")
    text = await page.text()
    assert page.status == 403 and "Admins only" in text and "The job queue is managed by admins" in text
    assert 'id="nav-jobs-admin"' not in (await (await site.client.get("/console")).text())
    for method, path in (("GET", "/api/admin/jobs"), ("GET", f"/api/admin/jobs/{job_id}"),
                         ("POST", f"/api/admin/jobs/{job_id}/retry"), ("POST", "/api/admin/jobs/retry-dead")):
        status, data = await site.call(method, path, csrf)
        assert (status, data["error"]) == (403, "forbidden"), path
    response = await site.client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": csrf})
    assert response.status == 403
    assert (await site.job(job_id)).status == "dead" and site.runner.wakes == []


async def test_retries_need_the_csrf_token(site: Site) -> None:
    job_id, _ = await dead_send(site)
    await site.login("root")
    status, data = await site.call("POST", f"/api/admin/jobs/{job_id}/retry")
    assert (status, data["error"]) == (403, "csrf")
    status, data = await site.call("POST", f"/api/admin/jobs/{job_id}/retry", "forged")
    assert (status, data["error"]) == (403, "csrf")
    for path in (f"/admin/jobs/{job_id}/retry", "/admin/jobs/retry-dead"):
        response = await site.client.post(path, data={"csrf_token": "forged"}, allow_redirects=False)
        assert response.status == 403, path
    assert (await site.job(job_id)).status == "dead" and site.runner.wakes == []


async def test_the_page_lists_dead_jobs_first_escaped_with_links(site: Site) -> None:
    job_id, ticket = await dead_send(site, error="<script>alert(1)</script>\nsecond line")
    done = await add_job(site.sessions, site.clock.now(), kind="route", status="done", error=None)
    await site.login("root")
    response = await site.client.get("/admin/jobs")
    html = await response.text()
    assert response.status == 200 and "Content-Security-Policy" in response.headers
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "second line" not in html  # the first line only
    assert html.index(f'data-job-id="{job_id}"') < html.index(f'data-job-id="{done}"')
    assert f'href="/console/tickets/{ticket}"' in html
    assert f'action="/admin/jobs/{job_id}/retry"' in html and 'id="retry-all-dead"' in html
    csrf = csrf_in(html, "csrf-token")
    assert html.count(f'name="csrf_token" value="{csrf}"') >= 3  # retry, retry all, log out
    assert 'data-status="dead"><strong>1</strong>' in html and 'data-status="done"><strong>1</strong>' in html
    assert 'id="nav-jobs-admin"' in html


async def test_retry_through_the_api_flips_a_dead_job_to_queued(site: Site) -> None:
    job_id, ticket = await dead_send(site)
    csrf = await site.login("root")
    status, data = await site.call("GET", "/api/admin/jobs?status=dead", csrf)
    assert status == 200 and [j["id"] for j in data["jobs"]] == [job_id]
    assert data["jobs"][0]["url"] == f"/console/tickets/{ticket}" and data["jobs"][0]["delivery"] == "failed"
    assert data["counts"]["dead"] == 1

    site.clock.advance(minutes=3)
    status, data = await site.call("POST", f"/api/admin/jobs/{job_id}/retry", csrf)
    assert status == 200, data
    retried = data["job"]
    assert (retried["status"], retried["attempts"], retried["delivery"]) == ("queued", 0, "queued")
    job = await site.job(job_id)
    assert (job.status, job.attempts, job.run_at) == ("queued", 0, site.clock.now())
    assert site.runner.wakes == [1]
    async with site.sessions() as session:
        message = await session.get(Message, job.payload["message_id"])
        assert message is not None and message.delivery == "queued" and message.meta == {}

    status, data = await site.call("POST", f"/api/admin/jobs/{job_id}/retry", csrf)
    assert (status, data["error"]) == (409, "conflict")
    assert data["message"] == f"job {job_id} is queued, only dead jobs can be retried"
    status, data = await site.call("POST", "/api/admin/jobs/999/retry", csrf)
    assert status == 404
    status, data = await site.call("GET", "/api/admin/jobs?status=zombie", csrf)
    assert status == 400
    status, data = await site.call("GET", f"/api/admin/jobs/{job_id}", csrf)
    assert status == 200 and data["job"]["last_error"].endswith("Traceback ...")


async def test_retry_forms_redirect_with_a_notice(site: Site) -> None:
    first, _ = await dead_send(site)
    routed, _, _ = await add_message(site.sessions, site.clock.now(), direction="in",
                                     meta={"routed": True}, address="visitor-2")
    refused = await add_job(site.sessions, site.clock.now(), kind="route", payload={"message_id": routed})
    csrf = await site.login("root")

    response = await site.client.post(f"/admin/jobs/{first}/retry", data={"csrf_token": csrf},
                                      allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == f"/admin/jobs?retried={first}"
    page = await (await site.client.get(response.headers["Location"])).text()
    assert f"Job {first} is queued again." in page
    assert (await site.job(first)).status == "queued" and site.runner.wakes == [1]

    response = await site.client.post(f"/admin/jobs/{first}/retry", data={"csrf_token": csrf})
    assert response.status == 409 and "only dead jobs can be retried" in await response.text()

    response = await site.client.post("/admin/jobs/retry-dead", data={"csrf_token": csrf})
    assert response.status == 409
    assert "already handed to an operator" in await response.text()
    assert (await site.job(refused)).status == "dead"
