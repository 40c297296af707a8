"""Ticket merges over the API (console session and CSRF, or an API token).

``POST /api/desk/tickets/{id}/merge`` ``{"into": A, "force": false, "reason": ""}``
    merge ticket ``{id}`` (B) into ticket A: B's history moves into A's conversation,
    B is closed and points to A.  Two customers' tickets: 409 unless ``force`` is true,
    which needs a supervisor (``tickets:manage``) and a reason.
``GET /api/desk/tickets/{id}/merges``
    ``{"merged_into": {...} | null, "merged_from": [...]}``.
``POST /api/desk/merge-suggestions/{id}/accept`` ``{"force": false, "reason": ""}``
    accept email's "possibly the same as G-…" suggestion by that merge (the new
    conversation and its ticket into the suggested conversation's newest ticket).

Every merge is recorded on both tickets (their history, hence the audit listeners)
and by the audit log as ``ticket.merge`` / ``mail.suggestion.merge``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.auth.roles import TICKETS_MANAGE, TICKETS_READ, TICKETS_WRITE
from gateway.errors import ForbiddenError
from gateway.flow.store import SqlStore
from gateway.tickets.merge import TicketMerger
from gateway.web.access import PRINCIPAL
from gateway.web.desk_schemas import OBJ, REASON, TAGS
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import MERGER
from gateway.web.request_fields import fits_int, flag_field, path_id, text_value
from gateway.web.route_docs import describe
from gateway.web.security import USER, json_response

FORCE = {"type": "boolean", "description": "two customers' tickets: a supervisor's explicit decision"}
MERGED = {200: ("the merge: source, target, moved messages, forced", OBJ)}


def _force_and_reason(request: web.Request, body: dict[str, Any]) -> tuple[bool, str]:
    force, reason = bool(flag_field(body, "force")), text_value(body, "reason")
    principal = request.get(PRINCIPAL)
    if force and principal is not None and TICKETS_MANAGE not in principal.permissions:
        raise ForbiddenError("merging two customers' tickets (force) needs the tickets:manage permission")
    return force, reason


@describe(
    TICKETS_WRITE,
    "Merge this ticket into another (history moved, this one closed with a pointer)",
    tags=TAGS,
    body={"type": "object", "required": ["into"],
          "properties": {"into": {"type": "integer"}, "force": FORCE, "reason": REASON}},
    responses=MERGED,
    audit="ticket.merge",
    subject="ticket",
)
@api
async def merge(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    into = body.get("into")
    if not fits_int(into) or into < 1:
        raise BadRequest("invalid_into", '"into" must be the id of the ticket to merge into.')
    force, reason = _force_and_reason(request, body)
    result = await request.app[MERGER].merge(
        path_id(request), into, request[USER], force=force, reason=reason
    )
    return json_response({"merge": result.to_dict()})


@describe(
    TICKETS_READ,
    "Where a ticket was merged into, and which tickets were merged into it",
    tags=TAGS,
    responses={200: ("merged_into and merged_from", OBJ)},
)
@api
async def merges(request: web.Request) -> web.StreamResponse:
    return json_response(await request.app[MERGER].merges_of(path_id(request)))


@describe(
    TICKETS_WRITE,
    'Accept email\'s "possibly the same as" suggestion by merging the tickets',
    tags=TAGS,
    body={"type": "object", "properties": {"force": FORCE, "reason": REASON}},
    body_required=False,
    responses=MERGED,
    audit="mail.suggestion.merge",
    subject="suggestion",
)
@api
async def accept_suggestion(request: web.Request) -> web.StreamResponse:
    body = await json_body(request) if request.can_read_body else {}
    force, reason = _force_and_reason(request, body)
    result = await request.app[MERGER].accept_suggestion(
        path_id(request), request[USER], force=force, reason=reason
    )
    return json_response({"merge": result.to_dict()})


def setup(app: web.Application, store: SqlStore) -> None:
    app[MERGER] = TicketMerger(store)
    r = app.router
    r.add_post(r"/api/desk/tickets/{id:\d+}/merge", merge, name="desk_merge")
    r.add_get(r"/api/desk/tickets/{id:\d+}/merges", merges, name="desk_merges")
    r.add_post(
        r"/api/desk/merge-suggestions/{id:\d+}/accept", accept_suggestion, name="desk_accept_suggestion"
    )
