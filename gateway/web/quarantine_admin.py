"""The mail quarantine: page ``/admin/mail/quarantine`` and JSON API (admins only).

=======  ==============================================  ===============================
GET      /api/admin/mail/quarantine                      ``{items: [...], count}``
GET      /api/admin/mail/quarantine/{id}                 ``{item, raw_preview}``
POST     /api/admin/mail/quarantine/{id}/release         process again (no automatic reply)
POST     /api/admin/mail/quarantine/{id}/delete          delete the mail and its bytes
=======  ==============================================  ===============================
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.errors import GuichetError
from gateway.mail import quarantine
from gateway.web.helpers import admin_api, is_admin, render
from gateway.web.jobs_admin import wake_runner
from gateway.web.mail_api import mail_of
from gateway.web.security import CSRF, USER, json_response, redirect

PAGE = "/admin/mail/quarantine"
PREFIX = "/api/admin/mail/quarantine"
PREVIEW_BYTES = 64 * 1024


def preview(raw: bytes) -> str:
    """The raw message as text for an admin's eyes (escaped by the template)."""
    text = raw[:PREVIEW_BYTES].decode("utf-8", "replace")
    return text + ("\n[… cut]" if len(raw) > PREVIEW_BYTES else "")


admin_only = admin_api("The mail quarantine is managed by admins.")


@admin_only
async def api_list(request: web.Request) -> web.StreamResponse:
    mail = mail_of(request)
    items = await quarantine.list_items(mail)
    return json_response({"items": [i.to_dict() for i in items], "count": await quarantine.count(mail)})


@admin_only
async def api_show(request: web.Request) -> web.StreamResponse:
    item, raw = await quarantine.show(mail_of(request), int(request.match_info["id"]))
    return json_response({"item": item.to_dict(), "raw_preview": preview(raw)})


@admin_only
async def api_release(request: web.Request) -> web.StreamResponse:
    await quarantine.release(mail_of(request), int(request.match_info["id"]))
    wake_runner(request.app)
    return json_response({"released": int(request.match_info["id"])})


@admin_only
async def api_delete(request: web.Request) -> web.StreamResponse:
    await quarantine.remove(mail_of(request), int(request.match_info["id"]))
    return json_response({"deleted": int(request.match_info["id"])})


async def page(request: web.Request, *, error: str = "", status: int = 200) -> web.StreamResponse:
    context: dict[str, Any] = {"user": request[USER], "csrf": request[CSRF]}
    if not is_admin(request):
        context["subject"] = "The mail quarantine"
        return render(request, "admin_forbidden.html", context, status=403)
    mail = mail_of(request)
    shown = request.query.get("show", "")
    detail = None
    if shown.isdecimal():
        try:
            item, raw = await quarantine.show(mail, int(shown))
            detail = {"item": item, "raw": preview(raw)}
        except GuichetError as exc:
            error = str(exc)
    done = request.query.get("done", "")
    context.update(
        items=await quarantine.list_items(mail),
        detail=detail,
        error=error,
        done={"released": "Released: it is processed again.", "deleted": "Deleted."}.get(done, ""),
    )
    return render(request, "mail_quarantine.html", context, status=status)


async def form(request: web.Request) -> web.StreamResponse:
    if not is_admin(request):
        return await page(request)
    inbound_id, action = int(request.match_info["id"]), request.match_info["action"]
    mail = mail_of(request)
    try:
        if action == "release":
            await quarantine.release(mail, inbound_id)
            wake_runner(request.app)
        else:
            await quarantine.remove(mail, inbound_id)
    except GuichetError as exc:
        return await page(request, error=str(exc), status=409)
    return redirect(f"{PAGE}?done={'released' if action == 'release' else 'deleted'}")


def setup_quarantine_admin(app: web.Application) -> None:
    r = app.router
    r.add_get(PAGE, page, name="admin_mail_quarantine")
    r.add_post(PAGE + r"/{id:\d+}/{action:release|delete}", form)
    r.add_get(PREFIX, api_list)
    r.add_get(PREFIX + r"/{id:\d+}", api_show)
    r.add_post(PREFIX + r"/{id:\d+}/release", api_release)
    r.add_post(PREFIX + r"/{id:\d+}/delete", api_delete)
