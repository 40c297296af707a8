"""Canned responses over the desk's API (console session and CSRF, or an API token;
errors ``{"error", "message"}``).  Registered by :func:`gateway.web.tickets_api.setup`.

``GET /api/desk/canned?q=...``                  search them (operators)
``POST /api/desk/canned``, ``PUT|DELETE /api/desk/canned/{id}``
    create, change, delete one ``{"title", "body", "lang"}`` (supervisors)
``POST /api/desk/canned/{id}/render`` ``{"ticket_id"}`` its text filled for a ticket
"""

from __future__ import annotations

from aiohttp import web

from gateway.auth.roles import TICKETS_MANAGE, TICKETS_READ
from gateway.web.desk_roles import require_role
from gateway.web.desk_schemas import INT, OBJ, STR, TAGS, obj
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK
from gateway.web.request_fields import int_field, path_id, text_value
from gateway.web.route_docs import Param, describe
from gateway.web.security import json_response


@describe(
    TICKETS_READ,
    "Canned responses",
    tags=TAGS,
    query=(Param("q", STR, "search title and text"),),
    responses={200: ("canned responses", OBJ)},
)
@api
async def canned(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    return json_response({"canned": await request.app[DESK].canned.listing(request.query.get("q", ""))})


@describe(
    TICKETS_MANAGE,
    "Create or change a canned response",
    tags=TAGS,
    body=obj(("title", "body"), title=STR, body=STR, lang=STR),
    responses={200: ("the response", OBJ), 201: ("the response", OBJ)},
    audit="canned.save",
)
@api
async def save_canned(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "supervisor")
    body = await json_body(request)
    canned_id = path_id(request) if "id" in request.match_info else None
    item = await request.app[DESK].canned.save(
        user,
        text_value(body, "title"),
        text_value(body, "body"),
        text_value(body, "lang"),
        canned_id=canned_id,
    )
    return json_response({"canned": item}, status=200 if canned_id else 201)


@describe(
    TICKETS_MANAGE,
    "Delete a canned response",
    tags=TAGS,
    body=None,
    body_required=False,
    responses={200: ("ok", OBJ)},
    audit="canned.delete",
)
@api
async def delete_canned(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    await request.app[DESK].canned.delete(path_id(request))
    return json_response({"ok": True})


@describe(
    TICKETS_READ,
    "A canned response filled for a ticket",
    tags=TAGS,
    body=obj(("ticket_id",), ticket_id=INT),
    responses={200: ("the text", OBJ)},
)
@api
async def render_canned(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    ticket_id = int_field(await json_body(request), "ticket_id")
    if ticket_id is None:
        raise BadRequest("invalid_ticket_id", '"ticket_id" is required.')
    text = await request.app[DESK].canned.render(path_id(request), ticket_id, user)
    return json_response({"text": text})


def setup(app: web.Application) -> None:
    c = r"/api/desk/canned/{id:\d+}"
    r = app.router
    r.add_get("/api/desk/canned", canned, name="desk_canned")
    r.add_post("/api/desk/canned", save_canned, name="desk_add_canned")
    r.add_put(c, save_canned, name="desk_edit_canned")
    r.add_delete(c, delete_canned, name="desk_delete_canned")
    r.add_post(c + "/render", render_canned, name="desk_render_canned")
