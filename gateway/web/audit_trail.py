"""The audit log's view of the web layer: a middleware that records every
successful change made through a route that names an audit action
(:class:`gateway.web.access.RouteDoc` ``audit``), with who did it (session or API
token, and from where), the subject's state before and after, and the ids the
response names.  Logins (successful or not) and logouts are recorded too.

This is written after the change commits, in its own transaction: a service that
wants the entry in its own transaction calls :func:`gateway.audit.record` there,
and leaves ``audit`` off its route.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.audit import Actor, record
from gateway.auth.users import normalise_name
from gateway.db.tables import User
from gateway.errors import GuichetError
from gateway.web.access import LOGIN_PATH, PRINCIPAL, RouteDoc, permission_of
from gateway.web.keys import CLOCK, OPERATORS, SESSIONS

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGOUT_PATH = "/console/logout"
SUMMARY_KEYS = ("ticket", "message", "conversation", "draft", "job", "user", "token", "customer", "saved")
TICKET_FIELDS = ("status", "assignee_id", "queue", "priority")
CONVERSATION_FIELDS = ("state", "assignee_id")


async def snapshot(request: web.Request, subject: str | None, subject_id: str) -> dict[str, Any] | None:
    """The state of a ticket or conversation that the audit log keeps (no text)."""
    if subject not in ("ticket", "conversation") or not subject_id.isdecimal():
        return None
    operators = request.app.get(OPERATORS)
    if operators is None:
        return None
    try:
        if subject == "ticket":
            data = (await operators.get_ticket(int(subject_id))).to_dict()
            return {k: data.get(k) for k in TICKET_FIELDS}
        data = (await operators.get_conversation(int(subject_id))).to_dict()
        return {k: data.get(k) for k in CONVERSATION_FIELDS}
    except GuichetError:
        return None


def response_ids(response: web.StreamResponse) -> dict[str, Any]:
    """``{"message_id": 12, ...}``: the ids a JSON response names."""
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return {}
    try:
        data = json.loads(response.body or b"{}")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {}
    found: dict[str, Any] = {}
    if isinstance(data, dict):
        for key in SUMMARY_KEYS:
            value = data.get(key)
            if isinstance(value, dict) and isinstance(value.get("id"), int | str):
                found[f"{key}_id"] = value["id"]
    return found


def subject_of(request: web.Request, doc: RouteDoc) -> tuple[str, str]:
    info = request.match_info
    subject_id = info.get("id") or info.get("version") or next(iter(info.values()), "")
    return doc.subject or "", str(subject_id)


async def _write(request: web.Request, actor: Actor, action: str, subject: tuple[str, str],
                 before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            await record(session, actor, action, subject[0], subject[1], before=before, after=after,
                         at=request.app[CLOCK].now())
    except Exception:  # the change is made: a failing log must not turn it into an error
        log.exception("audit: cannot record %s on %s %s", action, *subject)


async def _login(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    form = await request.post()  # cached: the handler read it
    name = normalise_name(str(form.get("username", "")))[:64]
    remote = request.remote or ""
    if response.status == 302:
        async with request.app[SESSIONS]() as session:
            user_id = await session.scalar(select(User.id).where(User.name == name))
        actor = Actor("user", user_id, name, remote=remote)
        await _write(request, actor, "auth.login", ("user", str(actor.id or "")), None, None)
    elif response.status in (401, 429):
        after = {"reason": "throttled" if response.status == 429 else "wrong name or password"}
        await _write(request, Actor("anonymous", None, name, remote=remote), "auth.login_failed",
                     ("user", ""), None, after)
    return response


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in WRITES:
        return await handler(request)
    if request.path == LOGIN_PATH:
        return await _login(request, handler)
    principal = request.get(PRINCIPAL)
    if principal is None:
        return await handler(request)
    actor = principal.actor(request.remote or "")
    if request.path == LOGOUT_PATH:
        response = await handler(request)
        await _write(request, actor, "auth.logout", ("user", str(principal.user.id)), None, None)
        return response
    _permission, doc = permission_of(request)
    if doc is None or not doc.audit:
        return await handler(request)
    subject = subject_of(request, doc)
    before = await snapshot(request, doc.subject, subject[1])
    response = await handler(request)
    if 200 <= response.status < 400:
        after = {**(await snapshot(request, doc.subject, subject[1]) or {}), **response_ids(response)}
        action = doc.audit.format(**request.match_info) if "{" in doc.audit else doc.audit
        await _write(request, actor, action, subject, before, after or None)
    return response
