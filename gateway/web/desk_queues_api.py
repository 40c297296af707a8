"""Queues, their members and operators' presence over the desk's API (console
session and CSRF, or an API token; errors ``{"error", "message"}``).  Registered by
:func:`gateway.web.tickets_api.setup`.

``GET|POST /api/desk/queues``
    the queues and their members; create or change one ``{"name", "label", "level"}``
    (supervisors).
``PUT /api/desk/queues/{name}/members`` ``{"user_ids": [...]}`` (supervisors)
``POST /api/desk/queues/{name}/round-robin`` give its new tickets out (supervisors)
``GET|POST /api/desk/presence`` ``{"present", "capacity", "user_id"}``
    my presence; set mine, or (supervisors) a capacity or someone else's.
"""

from __future__ import annotations

from aiohttp import web

from gateway.auth.roles import TICKETS_MANAGE, TICKETS_READ, TICKETS_WRITE
from gateway.web.desk_roles import require_role
from gateway.web.desk_schemas import BOOL, INT, OBJ, STR, TAGS, obj
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK
from gateway.web.request_fields import fits_int, flag_field, int_field, text_value
from gateway.web.route_docs import describe
from gateway.web.security import json_response


@describe(TICKETS_READ, "Queues and their members", tags=TAGS, responses={200: ("queues", OBJ)})
@api
async def queues(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    return json_response({"queues": [q.to_dict() for q in await request.app[DESK].queues.list_queues()]})


@describe(
    TICKETS_MANAGE,
    "Create or change a queue",
    tags=TAGS,
    body=obj(("name",), name=STR, label=STR, level=INT),
    responses={201: ("the queue", OBJ)},
    audit="queue.save",
)
@api
async def save_queue(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    body = await json_body(request)
    view = await request.app[DESK].queues.save_queue(
        text_value(body, "name"), text_value(body, "label"), int_field(body, "level") or 0
    )
    return json_response({"queue": view.to_dict()}, status=201)


@describe(
    TICKETS_MANAGE,
    "Set a queue's members",
    tags=TAGS,
    body=obj(("user_ids",), user_ids={"type": "array", "items": INT}),
    responses={200: ("the queue", OBJ)},
    audit="queue.members",
)
@api
async def set_members(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    ids = (await json_body(request)).get("user_ids")
    if not isinstance(ids, list) or not all(fits_int(i) for i in ids):
        raise BadRequest("invalid_user_ids", '"user_ids" is a list of user ids.')
    view = await request.app[DESK].queues.set_members(request.match_info["name"], ids)
    return json_response({"queue": view.to_dict()})


@describe(
    TICKETS_MANAGE,
    "Give a queue's new tickets round-robin",
    tags=TAGS,
    body=None,
    body_required=False,
    responses={200: ("the assignments", OBJ)},
    audit="queue.round_robin",
)
@api
async def round_robin(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    changes = await request.app[DESK].queues.round_robin(request.match_info["name"])
    return json_response({"assigned": [c.to_dict() for c in changes]})


@describe(
    TICKETS_WRITE,
    "My presence (GET) or set presence and capacity (POST; capacity and others: supervisors)",
    tags=TAGS,
    body=obj(present=BOOL, capacity=INT, user_id=INT),
    body_required=False,
    responses={200: ("the presence", OBJ)},
)
@api
async def presence(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    service = request.app[DESK].queues
    if request.method == "GET":
        return json_response({"presence": await service.presence(user.id)})
    body = await json_body(request)
    target = int_field(body, "user_id") or user.id
    capacity = int_field(body, "capacity")
    if target != user.id or capacity is not None:
        require_role(request, "supervisor")  # an operator cannot raise their own load either
    present = flag_field(body, "present")
    return json_response({"presence": await service.set_presence(target, present=present, capacity=capacity)})


def setup(app: web.Application) -> None:
    q = r"/api/desk/queues/{name:[A-Za-z0-9_-]+}"
    r = app.router
    r.add_get("/api/desk/queues", queues, name="desk_queues")
    r.add_post("/api/desk/queues", save_queue, name="desk_save_queue")
    r.add_put(q + "/members", set_members, name="desk_members")
    r.add_post(q + "/round-robin", round_robin, name="desk_round_robin")
    r.add_get("/api/desk/presence", presence, name="desk_presence")
    r.add_post("/api/desk/presence", presence, name="desk_set_presence")
