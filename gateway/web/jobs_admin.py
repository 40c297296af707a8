"""The jobs admin page, ``/admin/jobs``, and its JSON API (admin role only).

The page shows the counts by status, the dead jobs first (error, kind, the
message and a link to its conversation's ticket in the console, a Retry button)
with "Retry all dead", then the most recent other jobs.  Its buttons are plain
forms carrying the session's CSRF token; a retry wakes this process's job workers.
Session, CSRF and the login redirect are enforced by :mod:`gateway.web.security`;
operators get 403.  The service is :class:`gateway.flow.job_admin.JobAdmin`.

=======  ================================  ==========================================
GET      /api/admin/jobs                   ``{jobs: [...], counts}``; ``?status=&kind=&limit=``
GET      /api/admin/jobs/{id}              ``{job}`` with the full last error
POST     /api/admin/jobs/{id}/retry        ``{job}``; 409 when refused, 404 when unknown
POST     /api/admin/jobs/retry-dead        ``{retried: [ids], refused: {id: reason}}``; ``?kind=``
=======  ================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.errors import GuichetError, NotFoundError
from gateway.flow.job_admin import JobAdmin, JobInfo, MessageRef, check_status
from gateway.web import keys
from gateway.web.helpers import BadRequest, admin_api, is_admin, render
from gateway.web.security import CSRF, USER, json_response, redirect

PAGE = "/admin/jobs"
PREFIX = "/api/admin/jobs"
RECENT = 50

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def jobs_of(app: web.Application) -> JobAdmin:
    return JobAdmin(app[keys.SESSIONS], app[keys.CLOCK])


def wake_runner(app: web.Application) -> bool:
    """Wake this process's job workers, if the app holds a runner (``keys.RUNNER``)."""
    runner = app.get(keys.RUNNER)
    if runner is None:
        return False
    runner.wake()
    return True


def conversation_url(ref: MessageRef | None) -> str | None:
    """The console's page for the message's conversation: its latest ticket."""
    return f"/console/tickets/{ref.ticket_id}" if ref and ref.ticket_id else None


def job_dict(job: JobInfo, refs: dict[int, MessageRef], *, full: bool = False) -> dict[str, Any]:
    ref = refs.get(job.message_id) if job.message_id is not None else None
    return {
        **job.to_dict(full=full),
        "conversation_id": ref.conversation_id if ref else None,
        "ticket_id": ref.ticket_id if ref else None,
        "delivery": ref.delivery if ref else None,
        "url": conversation_url(ref),
    }


async def _with_refs(admin: JobAdmin, jobs: list[JobInfo], *, full: bool = False) -> list[dict[str, Any]]:
    refs = await admin.message_refs([j.message_id for j in jobs if j.message_id is not None])
    return [job_dict(j, refs, full=full) for j in jobs]


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(RECENT))
    if not raw.isdecimal() or not 1 <= int(raw) <= 500:
        raise BadRequest("invalid_limit", "limit must be a number from 1 to 500.")
    return int(raw)


# ---------------------------------------------------------------- JSON API


admin_only = admin_api("Jobs are managed by admins.")


@admin_only
async def api_list(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status") or None
    kind = request.query.get("kind") or None
    check_status(status)
    admin = jobs_of(request.app)
    jobs = await admin.list_jobs(status, kind, _limit(request))
    return json_response({"jobs": await _with_refs(admin, jobs), "counts": await admin.counts()})


@admin_only
async def api_get(request: web.Request) -> web.StreamResponse:
    admin = jobs_of(request.app)
    job = await admin.get_job(int(request.match_info["id"]))
    return json_response({"job": (await _with_refs(admin, [job], full=True))[0]})


@admin_only
async def api_retry(request: web.Request) -> web.StreamResponse:
    admin = jobs_of(request.app)
    job = await admin.retry_job(int(request.match_info["id"]))
    wake_runner(request.app)
    return json_response({"job": (await _with_refs(admin, [job], full=True))[0]})


@admin_only
async def api_retry_dead(request: web.Request) -> web.StreamResponse:
    report = await jobs_of(request.app).retry_dead(request.query.get("kind") or None)
    if report.retried:
        wake_runner(request.app)
    return json_response(report.to_dict())


# ------------------------------------------------------------------- pages


async def jobs_page(request: web.Request, *, error: str = "", status: int = 200) -> web.StreamResponse:
    context: dict[str, Any] = {"user": request[USER], "csrf": request[CSRF]}
    if not is_admin(request):
        context["subject"] = "The job queue"
        return render(request, "admin_forbidden.html", context, status=403)
    admin = jobs_of(request.app)
    dead = await admin.list_jobs("dead", limit=200)
    recent = [j for j in await admin.list_jobs(limit=RECENT) if j.status != "dead"]
    context.update(
        counts=await admin.counts(),
        dead=await _with_refs(admin, dead),
        recent=await _with_refs(admin, recent),
        done=_done_notice(request),
        error=error,
    )
    return render(request, "jobs_admin.html", context, status=status)


def _done_notice(request: web.Request) -> str:
    """The notice after a redirect (built here from numbers, never echoed from the URL)."""
    job, count = request.query.get("retried", ""), request.query.get("retried_all", "")
    if job.isdecimal():
        return f"Job {int(job)} is queued again."
    if count.isdecimal():
        n = int(count)
        return f"{n} dead job{'s are' if n != 1 else ' is'} queued again."
    return ""


def _page_error(exc: GuichetError) -> tuple[str, int]:
    return str(exc), 404 if isinstance(exc, NotFoundError) else 409


async def retry_form(request: web.Request) -> web.StreamResponse:
    if not is_admin(request):
        return await jobs_page(request)  # the 403 page
    job_id = int(request.match_info["id"])
    try:
        await jobs_of(request.app).retry_job(job_id)
    except GuichetError as exc:
        error, status = _page_error(exc)
        return await jobs_page(request, error=error, status=status)
    wake_runner(request.app)
    return redirect(f"{PAGE}?retried={job_id}")


async def retry_dead_form(request: web.Request) -> web.StreamResponse:
    if not is_admin(request):
        return await jobs_page(request)
    report = await jobs_of(request.app).retry_dead()
    if report.retried:
        wake_runner(request.app)
    if report.refused:
        error = "; ".join(report.refused.values())
        if report.retried:
            error = f"{len(report.retried)} queued again; refused: {error}"
        return await jobs_page(request, error=error, status=409)
    return redirect(f"{PAGE}?retried_all={len(report.retried)}")


def setup_jobs_admin(app: web.Application) -> None:
    """Add the page, its forms and the JSON API."""
    r = app.router
    r.add_get(PAGE, jobs_page, name="admin_jobs")
    r.add_post(PAGE + r"/{id:\d+}/retry", retry_form, name="admin_job_retry")
    r.add_post(PAGE + "/retry-dead", retry_dead_form, name="admin_jobs_retry_dead")
    r.add_get(PREFIX, api_list, name="api_admin_jobs")
    r.add_get(PREFIX + r"/{id:\d+}", api_get, name="api_admin_job")
    r.add_post(PREFIX + r"/{id:\d+}/retry", api_retry, name="api_admin_job_retry")
    r.add_post(PREFIX + "/retry-dead", api_retry_dead, name="api_admin_jobs_retry_dead")
