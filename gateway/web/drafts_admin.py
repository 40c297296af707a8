"""Closing the KB loop in the console: drafts of articles from resolved tickets,
their approval by an admin, and the KB gaps report.

Pages (session login; approving and rejecting need the admin role):
``GET /console/admin/drafts[/{id}]`` lists the drafts waiting for review, the
selected one in an editor (title, answer, question variants), and the KB gaps
report (``#kb-gaps``); ``POST /console/admin/drafts/{id}/approve|reject`` are
its forms.  JSON API: ``POST /api/tickets/{id}/draft``, ``GET /api/drafts``,
``GET /api/drafts/{id}``, ``POST /api/drafts/{id}/approve|reject``,
``GET /api/kb/gaps?days=N``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.errors import ConflictError, ForbiddenError, GuichetError, InvalidInputError, NotFoundError
from gateway.kb.drafts import DraftError, DraftService, KBAdminPort
from gateway.kb.gaps import GapReport
from gateway.kb.gaps_report import DEFAULT_DAYS, build_gaps
from gateway.kb.vectors import vectorizer_for
from gateway.web.assist_api import retriever_of
from gateway.web.helpers import BadRequest, api, json_body, render
from gateway.web.keys import BUS, CLOCK, KB_ADMIN, KB_ADMIN_PORT, SESSIONS, SETTINGS
from gateway.web.security import CSRF, USER, json_error, json_response, redirect

PAGE = "/console/admin/drafts"
STATUSES = ("draft", "approved", "rejected")


def drafts_of(app: web.Application) -> DraftService:
    return DraftService(app[SESSIONS], app[CLOCK])


def kb_admin_of(app: web.Application) -> KBAdminPort | None:
    """What approving a draft publishes through: a test's (``keys.KB_ADMIN_PORT``), the
    KB admin page's service (``keys.KB_ADMIN``), or one made here on first use (same
    KB directory, index and live retriever)."""
    admin: KBAdminPort | None = app.get(KB_ADMIN_PORT) or app.get(KB_ADMIN)
    if admin is not None:
        return admin
    retriever = retriever_of(app)
    embedder = getattr(retriever, "embedder", None)
    if SETTINGS not in app or embedder is None:
        return None
    from gateway.kb.admin import KBAdmin

    settings = app[SETTINGS]
    made = KBAdmin(settings.kb.source_dir, settings.index_path, embedder, bus=app.get(BUS),
                   retriever=retriever)
    app[KB_ADMIN_PORT] = made
    return made


def _days(request: web.Request) -> float:
    raw = request.query.get("days", str(DEFAULT_DAYS))
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not 0 < days <= 366:
        raise BadRequest("invalid_days", "days must be a number from 1 to 366.")
    return days


async def gaps_for(request: web.Request, days: float) -> GapReport:
    vectorizer = vectorizer_for(retriever_of(request.app))
    return await build_gaps(request.app[SESSIONS], vectorizer, request.app[CLOCK].now(), days)


async def _approve(request: web.Request, draft_id: int, data: Any) -> Any:
    kb_admin = kb_admin_of(request.app)
    if kb_admin is None:
        raise DraftError("the knowledge-base admin service is not available")
    questions = data.get("questions")
    if isinstance(questions, str):
        questions = questions.splitlines()
    return await drafts_of(request.app).approve(
        draft_id, request[USER], kb_admin,
        title=_opt_str(data.get("title")), body=_opt_str(data.get("body")),
        questions=[str(q) for q in questions] if isinstance(questions, list) else None,
    )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- JSON API


@api
async def create_draft(request: web.Request) -> web.StreamResponse:
    title = (await json_body(request)).get("title") if request.body_exists else None
    draft = await drafts_of(request.app).create_from_ticket(
        int(request.match_info["id"]), request[USER], title if isinstance(title, str) else None
    )
    return json_response({"draft": draft.to_dict(), "url": f"{PAGE}/{draft.id}"}, status=201)


@api
async def list_drafts(request: web.Request) -> web.StreamResponse:
    statuses = [s for s in request.query.get("status", "draft").split(",") if s]
    if not statuses or any(s not in STATUSES for s in statuses):
        raise BadRequest("invalid_status", f"status must be among: {', '.join(STATUSES)}")
    drafts = await drafts_of(request.app).list_drafts(statuses)
    return json_response({"drafts": [d.to_dict() for d in drafts]})


@api
async def get_draft(request: web.Request) -> web.StreamResponse:
    draft = await drafts_of(request.app).get(int(request.match_info["id"]))
    return json_response({"draft": draft.to_dict()})


@api
async def approve_draft(request: web.Request) -> web.StreamResponse:
    data = await json_body(request) if request.body_exists else {}
    try:
        draft = await _approve(request, int(request.match_info["id"]), data)
    except DraftError as exc:
        return json_error(502, "publish_failed", str(exc))
    return json_response({"draft": draft.to_dict()})


@api
async def reject_draft(request: web.Request) -> web.StreamResponse:
    draft = await drafts_of(request.app).reject(int(request.match_info["id"]), request[USER])
    return json_response({"draft": draft.to_dict()})


@api
async def kb_gaps(request: web.Request) -> web.StreamResponse:
    return json_response((await gaps_for(request, _days(request))).to_dict())


# ------------------------------------------------------------------- pages

_PAGE_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404), (ConflictError, 409), (InvalidInputError, 400), (ForbiddenError, 403),
    (DraftError, 502),
)


async def drafts_page(request: web.Request, *, error: str = "", status: int = 200) -> web.StreamResponse:
    service = drafts_of(request.app)
    selected = None
    if "id" in request.match_info:
        try:
            selected = await service.get(int(request.match_info["id"]))
        except NotFoundError:
            error, status = "This draft does not exist.", 404
    try:
        days = _days(request)
    except BadRequest:
        days = DEFAULT_DAYS
    context = {
        "user": request[USER],
        "csrf": request[CSRF],
        "drafts": [d.to_dict() for d in await service.list_drafts(["draft"])],
        "reviewed": [d.to_dict() for d in (await service.list_drafts(["approved", "rejected"]))[:10]],
        "selected": selected.to_dict() if selected else None,
        "gaps": (await gaps_for(request, days)).to_dict(),
        "days": days,
        "done": request.query.get("done", ""),
        "error": error,
        "can_review": request[USER].role == "admin",
    }
    return render(request, "drafts_admin.html", context, status)


async def review_form(request: web.Request) -> web.StreamResponse:
    draft_id = int(request.match_info["id"])
    form = await request.post()
    try:
        if request.match_info["verb"] == "approve":
            await _approve(request, draft_id, {k: form.get(k) for k in ("title", "body", "questions")})
            return redirect(f"{PAGE}/{draft_id}?done=approved")
        await drafts_of(request.app).reject(draft_id, request[USER])
        return redirect(f"{PAGE}/{draft_id}?done=rejected")
    except GuichetError as exc:
        status = next((s for kind, s in _PAGE_ERRORS if isinstance(exc, kind)), 500)
        return await drafts_page(request, error=str(exc), status=status)


def setup(app: web.Application) -> None:
    app.router.add_post(r"/api/tickets/{id:\d+}/draft", create_draft, name="api_create_draft")
    app.router.add_get("/api/drafts", list_drafts, name="api_drafts")
    app.router.add_get(r"/api/drafts/{id:\d+}", get_draft, name="api_draft")
    app.router.add_post(r"/api/drafts/{id:\d+}/approve", approve_draft, name="api_approve_draft")
    app.router.add_post(r"/api/drafts/{id:\d+}/reject", reject_draft, name="api_reject_draft")
    app.router.add_get("/api/kb/gaps", kb_gaps, name="api_kb_gaps")
    app.router.add_get(PAGE, drafts_page, name="console_drafts")
    app.router.add_get(PAGE + r"/{id:\d+}", drafts_page, name="console_draft")
    app.router.add_post(PAGE + r"/{id:\d+}/{verb:approve|reject}", review_form, name="console_review")
