"""The mail inspection API (any console user: operators and admins; the session
and CSRF checks are :mod:`gateway.web.security`'s).

=======  ========================================  =========================================
GET      /api/mail/inbound?message_id=&conversation_id=   ``{mails: [...]}`` (find by Message-ID)
GET      /api/mail/inbound/{id}                     class, reason, clean text, quoted part,
                                                    signature, conversation, ticket, attachments
GET      /api/mail/inbound/{id}/raw                 the raw message, as a download
GET      /api/mail/attachments/{id}                 an attachment, as a download (never inline)
GET      /api/mail/outbound?conversation_id=        ``{mails: [...]}``: Message-ID, recipients
GET      /api/mail/outbound/{message_id}            one outbound mail, per-recipient delivery
GET      /api/mail/suggestions                      open "possibly the same as" suggestions
POST     /api/mail/suggestions/{id}/accept          merge into the suggested conversation: the
                                                    desk's merge (``TicketMerger.accept_suggestion``,
                                                    as ``/api/desk/merge-suggestions/{id}/accept``),
                                                    audited as ``mail.suggestion.merge``
POST     /api/mail/suggestions/{id}/dismiss
=======  ========================================  =========================================
"""

from __future__ import annotations

import re

from aiohttp import web

from gateway.auth.roles import TICKETS_WRITE
from gateway.mail import inspect, merge
from gateway.mail.service import MailService
from gateway.web import keys
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.route_docs import describe
from gateway.web.security import USER, json_response

PREFIX = "/api/mail"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def mail_of(request: web.Request) -> MailService:
    return request.app[keys.MAIL]


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdecimal():
        raise BadRequest(f"invalid_{name}", f"{name} must be a number.")
    return int(raw)


def download(data: bytes, filename: str) -> web.Response:
    safe = _UNSAFE_NAME.sub("_", filename)[:120] or "download"
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@api
async def inbound_list(request: web.Request) -> web.StreamResponse:
    mails = await inspect.inbound_list(
        mail_of(request),
        message_id=request.query.get("message_id") or None,
        conversation_id=_int(request, "conversation_id"),
    )
    return json_response({"mails": mails})


@api
async def inbound_get(request: web.Request) -> web.StreamResponse:
    return json_response(
        {"mail": await inspect.inbound_detail(mail_of(request), int(request.match_info["id"]))}
    )


@api
async def inbound_raw(request: web.Request) -> web.StreamResponse:
    inbound_id = int(request.match_info["id"])
    return download(await inspect.raw_of(mail_of(request), inbound_id), f"mail-{inbound_id}.eml")


@api
async def attachment_get(request: web.Request) -> web.StreamResponse:
    name, data = await inspect.attachment(mail_of(request), int(request.match_info["id"]))
    return download(data, name)


@api
async def outbound_list(request: web.Request) -> web.StreamResponse:
    conversation_id = _int(request, "conversation_id")
    if conversation_id is None:
        raise BadRequest("missing_conversation_id", "Give ?conversation_id=.")
    return json_response({"mails": await inspect.outbound_list(mail_of(request), conversation_id)})


@api
async def outbound_get(request: web.Request) -> web.StreamResponse:
    detail = await inspect.outbound_detail(mail_of(request), int(request.match_info["message_id"]))
    return json_response({"mail": detail})


@api
async def suggestions(request: web.Request) -> web.StreamResponse:
    return json_response({"suggestions": await merge.list_open(mail_of(request))})


@describe(
    TICKETS_WRITE,
    'Accept a "possibly the same as" suggestion: the desk\'s merge of that mail\'s ticket',
    tags=("mail",),
    body={"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}},
    body_required=False,
    responses={200: ("the suggestion and the merge", {"type": "object"})},
    audit="mail.suggestion.merge",
    subject="suggestion",
)
@api
async def suggestion_accept(request: web.Request) -> web.StreamResponse:
    body = await json_body(request) if request.can_read_body else {}
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise BadRequest("invalid_reason", '"reason" must be a string.')
    done = await merge.accept(
        mail_of(request), int(request.match_info["id"]), request[USER],
        merger=request.app.get(keys.MERGER), reason=reason,
    )
    return json_response(done)


@api
async def suggestion_dismiss(request: web.Request) -> web.StreamResponse:
    done = await merge.dismiss(mail_of(request), int(request.match_info["id"]), request[USER].id)
    return json_response({"suggestion": done})


def setup_mail_api(app: web.Application) -> None:
    r = app.router
    r.add_get(PREFIX + "/inbound", inbound_list)
    r.add_get(PREFIX + r"/inbound/{id:\d+}", inbound_get)
    r.add_get(PREFIX + r"/inbound/{id:\d+}/raw", inbound_raw)
    r.add_get(PREFIX + r"/attachments/{id:\d+}", attachment_get)
    r.add_get(PREFIX + "/outbound", outbound_list)
    r.add_get(PREFIX + r"/outbound/{message_id:\d+}", outbound_get)
    r.add_get(PREFIX + "/suggestions", suggestions)
    r.add_post(PREFIX + r"/suggestions/{id:\d+}/accept", suggestion_accept)
    r.add_post(PREFIX + r"/suggestions/{id:\d+}/dismiss", suggestion_dismiss)
