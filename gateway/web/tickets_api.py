"""The ticket desk's REST API under ``/api/desk`` (console session and CSRF, as
:mod:`gateway.web.console_api`; errors ``{"error", "message"}``).

Roles: every route needs an operator; managing queues, members, other operators'
capacity, canned responses and customer tiers needs a supervisor (or an admin).  The
check is :func:`require_role`, by role name, so an access-control module can replace
:data:`ROLE_RANK` or wrap the function.

Changes return the recorded change (``{"change": {kind, before, after, ...}}``) and the
ticket as it now is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from gateway.auth.roles import CUSTOMERS_WRITE, TICKETS_MANAGE, TICKETS_READ, TICKETS_WRITE
from gateway.errors import ForbiddenError
from gateway.tickets.history import TicketChange
from gateway.tickets.search import TicketQuery
from gateway.tickets.sla_clock import get_policies
from gateway.views import UserView
from gateway.web import desk_views_api
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK
from gateway.web.route_docs import Param, describe
from gateway.web.security import USER, json_response

ROLE_RANK = {"operator": 1, "supervisor": 2, "admin": 3}
TAGS = ("desk",)
OBJ: dict[str, Any] = {"type": "object"}
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
DETAIL = {200: ("the change and the ticket as it now is", OBJ)}


def _obj(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


REASON = {"type": "string", "maxLength": 500}


def require_role(request: web.Request, role: str) -> UserView:
    """The request's user if their role is ``role`` or above, else 403."""
    user = request[USER]
    if ROLE_RANK.get(user.role, 0) < ROLE_RANK[role]:
        raise ForbiddenError(f"this needs the {role} role")
    return user


def _id(request: web.Request, key: str = "id") -> int:
    return int(request.match_info[key])  # routes only match digits


def _str(body: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"invalid_{key}", f'"{key}" must be a string.')
    return value


def _int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadRequest(f"invalid_{key}", f'"{key}" must be an integer.')
    return value


def _list(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


async def _changed(request: web.Request, change: TicketChange) -> web.Response:
    detail = await request.app[DESK].desk.detail(change.ticket_id)
    return json_response({"change": change.to_dict(), **detail})


# ------------------------------------------------------------------ tickets


@describe(
    TICKETS_READ,
    "Ticket views, search, filters, sort",
    tags=TAGS,
    query=(
        Param("view", STR, "mine, unassigned, my_queues, open, pending, resolved, all"),
        Param("q", STR, "search subject, messages, customer, number"),
        Param("status", STR, "comma-separated statuses"),
        Param("priority", STR, "comma-separated P1..P4"),
        Param("queue", STR), Param("assignee", INT), Param("tag", STR, "only tickets with this tag"),
        Param("category", STR),
        Param("sort", STR, "priority, sla_due, created, updated"),
        Param("limit", INT),
        Param("offset", INT),
    ),
    responses={200: ("tickets", OBJ)},
)
@api
async def list_tickets(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    q = request.query
    try:
        limit, offset = int(q.get("limit", "100")), int(q.get("offset", "0"))
        assignee = int(q["assignee"]) if q.get("assignee") else None
    except ValueError as exc:
        raise BadRequest("invalid_number", "limit, offset and assignee are numbers.") from exc
    query = TicketQuery(
        view=q.get("view", "open"),
        text=q.get("q", ""),
        statuses=_list(q.get("status")),
        priorities=_list(q.get("priority")),
        queue=q.get("queue") or None,
        assignee_id=assignee,
        category=q.get("category"), tag=q.get("tag") or None,
        sort=q.get("sort", "priority"),
        limit=limit,
        offset=offset,
    )
    tickets = await request.app[DESK].search.find(query, user.id)
    return json_response({"tickets": tickets, "now": request.app[DESK].desk.store.clock.now().isoformat()})


@describe(
    TICKETS_READ,
    "A ticket with its SLA clocks, history, pauses, appointments",
    tags=TAGS,
    responses={200: ("the ticket", OBJ)},
)
@api
async def ticket_detail(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    return json_response(await request.app[DESK].desk.detail(_id(request)))


@describe(
    TICKETS_WRITE,
    "Change a ticket's status",
    tags=TAGS,
    body=_obj(("status",), status=STR, reason=REASON),
    responses=DETAIL,
    audit="ticket.status",
    subject="ticket",
)
@api
async def set_status(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    status = _str(body, "status")
    if not status:
        raise BadRequest("invalid_status", '"status" is required.')
    change = await request.app[DESK].desk.set_status(
        _id(request), status, user, _str(body, "reason", "") or ""
    )
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Set urgency and impact, or the priority with a reason",
    tags=TAGS,
    body=_obj(urgency=STR, impact=STR, priority=STR, reason=REASON),
    responses=DETAIL,
    audit="ticket.priority",
    subject="ticket",
)
@api
async def set_priority(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].desk.set_priority(
        _id(request),
        user,
        urgency=_str(body, "urgency"),
        impact=_str(body, "impact"),
        value=_str(body, "priority"),
        reason=_str(body, "reason", "") or "",
    )
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Set a ticket's category",
    tags=TAGS,
    body=_obj(category=STR),
    responses=DETAIL,
    audit="ticket.category",
    subject="ticket",
)
@api
async def set_category(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].desk.set_category(_id(request), user, _str(body, "category", "") or "")
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    'Assign to oneself ("me"), a colleague, or back to the queue (null)',
    tags=TAGS,
    body=_obj(user_id={}, reason=REASON),
    responses=DETAIL,
    audit="ticket.assign",
    subject="ticket",
)
@api
async def assign(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    raw = body.get("user_id")
    target = user.id if raw == "me" else raw
    if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
        raise BadRequest("invalid_user_id", '"user_id" is a user id, "me" or null (back to the queue).')
    change = await request.app[DESK].queues.assign(_id(request), user, target, _str(body, "reason", "") or "")
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Transfer to a queue or an operator, with a reason",
    tags=TAGS,
    body=_obj(("reason",), queue=STR, user_id=INT, reason=REASON),
    responses=DETAIL,
    audit="ticket.transfer",
    subject="ticket",
)
@api
async def transfer(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].queues.transfer(
        _id(request),
        user,
        queue=_str(body, "queue"),
        to_user_id=_int(body, "user_id"),
        reason=_str(body, "reason", "") or "",
    )
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Escalate to second level, with a reason",
    tags=TAGS,
    body=_obj(("reason",), reason=REASON),
    responses=DETAIL,
    audit="ticket.escalate",
    subject="ticket",
)
@api
async def escalate(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].queues.escalate(_id(request), user, _str(body, "reason", "") or "")
    return await _changed(request, change)


# ------------------------------------------------------------- appointments


@describe(TICKETS_READ, "A ticket's appointments", tags=TAGS, responses={200: ("appointments", OBJ)})
@api
async def ticket_appointments(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    items = await request.app[DESK].appointments.listing(ticket_id=_id(request))
    return json_response({"appointments": items})


@describe(
    TICKETS_WRITE,
    "Schedule a callback or follow-up",
    tags=TAGS,
    body=_obj(
        ("due_at",),
        due_at=STR,
        kind=STR,
        note=STR,
        phone=STR,
        owner_id=INT,
        tell_customer={"type": "boolean"},
        timezone=STR,
    ),
    responses={201: ("the appointment", OBJ)},
    audit="ticket.appointment",
    subject="ticket",
)
@api
async def schedule(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    raw = _str(body, "due_at")
    try:
        due = datetime.fromisoformat(raw or "")
    except ValueError as exc:
        raise BadRequest("invalid_due_at", '"due_at" is an ISO time with its offset.') from exc
    tell = body.get("tell_customer")
    if tell is not None and not isinstance(tell, bool):
        raise BadRequest("invalid_tell_customer", '"tell_customer" is true or false.')
    item = await request.app[DESK].appointments.schedule(
        _id(request),
        user,
        due,
        kind=_str(body, "kind", "callback") or "callback",
        note=_str(body, "note", "") or "",
        phone=_str(body, "phone", "") or "",
        owner_id=_int(body, "owner_id"),
        tell_customer=tell,
        timezone=_str(body, "timezone", "UTC") or "UTC",
    )
    return json_response({"appointment": item}, status=201)


@describe(
    TICKETS_READ,
    "Appointments (mine, missed...)",
    tags=TAGS,
    query=(
        Param("mine", STR, "1: only mine"),
        Param("status", STR, "scheduled, reminded, done, missed, cancelled"),
    ),
    responses={200: ("appointments", OBJ)},
)
@api
async def appointments(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    mine = request.query.get("mine") in ("1", "true")
    items = await request.app[DESK].appointments.listing(
        owner_id=user.id if mine else None, status=request.query.get("status") or None
    )
    return json_response({"appointments": items})


@describe(
    TICKETS_WRITE,
    "Mark an appointment done or cancelled",
    tags=TAGS,
    body=_obj(outcome=STR),
    body_required=False,
    responses={200: ("the appointment", OBJ)},
    audit="appointment.finish",
    subject="appointment",
)
@api
async def finish_appointment(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    status = "cancelled" if request.match_info["action"] == "cancel" else "done"
    item = await request.app[DESK].appointments.finish(
        _id(request), user, status=status, outcome=_str(body, "outcome", "") or ""
    )
    return json_response({"appointment": item})


# ------------------------------------------------------- queues and presence


@describe(TICKETS_READ, "Queues and their members", tags=TAGS, responses={200: ("queues", OBJ)})
@api
async def queues(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    return json_response({"queues": [q.to_dict() for q in await request.app[DESK].queues.list_queues()]})


@describe(
    TICKETS_MANAGE,
    "Create or change a queue",
    tags=TAGS,
    body=_obj(("name",), name=STR, label=STR, level=INT),
    responses={201: ("the queue", OBJ)},
    audit="queue.save",
)
@api
async def save_queue(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    body = await json_body(request)
    view = await request.app[DESK].queues.save_queue(
        _str(body, "name", "") or "", _str(body, "label", "") or "", _int(body, "level") or 0
    )
    return json_response({"queue": view.to_dict()}, status=201)


@describe(
    TICKETS_MANAGE,
    "Set a queue's members",
    tags=TAGS,
    body=_obj(("user_ids",), user_ids={"type": "array", "items": INT}),
    responses={200: ("the queue", OBJ)},
    audit="queue.members",
)
@api
async def set_members(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    ids = (await json_body(request)).get("user_ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
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
    body=_obj(present={"type": "boolean"}, capacity=INT, user_id=INT),
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
    target = _int(body, "user_id") or user.id
    capacity = _int(body, "capacity")
    if target != user.id or capacity is not None:
        require_role(request, "supervisor")  # an operator cannot raise their own load either
    present = body.get("present")
    if present is not None and not isinstance(present, bool):
        raise BadRequest("invalid_present", '"present" is true or false.')
    return json_response({"presence": await service.set_presence(target, present=present, capacity=capacity)})


# --------------------------------------------------------- canned and policy


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
    body=_obj(("title", "body"), title=STR, body=STR, lang=STR),
    responses={200: ("the response", OBJ), 201: ("the response", OBJ)},
    audit="canned.save",
)
@api
async def save_canned(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "supervisor")
    body = await json_body(request)
    canned_id = _id(request) if "id" in request.match_info else None
    item = await request.app[DESK].canned.save(
        user,
        _str(body, "title", "") or "",
        _str(body, "body", "") or "",
        _str(body, "lang", "") or "",
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
    await request.app[DESK].canned.delete(_id(request))
    return json_response({"ok": True})


@describe(
    TICKETS_READ,
    "A canned response filled for a ticket",
    tags=TAGS,
    body=_obj(("ticket_id",), ticket_id=INT),
    responses={200: ("the text", OBJ)},
)
@api
async def render_canned(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    ticket_id = _int(await json_body(request), "ticket_id")
    if ticket_id is None:
        raise BadRequest("invalid_ticket_id", '"ticket_id" is required.')
    text = await request.app[DESK].canned.render(_id(request), ticket_id, user)
    return json_response({"text": text})


@describe(
    CUSTOMERS_WRITE,
    "Set a customer's service tier (SLA policies may depend on it)",
    tags=TAGS,
    body=_obj(tier=STR),
    responses={200: ("the tier", OBJ)},
    audit="customer.tier",
    subject="customer",
)
@api
async def set_tier(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    tier = _str(await json_body(request), "tier", "") or ""
    await request.app[DESK].desk.set_customer_tier(_id(request), tier)
    return json_response({"customer_id": _id(request), "tier": tier.strip().lower()})


@describe(
    TICKETS_READ,
    "The SLA policies, calendars and priority matrix in force",
    tags=TAGS,
    responses={200: ("policies", OBJ)},
)
@api
async def sla_policies(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    store = request.app[DESK].desk.store
    return json_response(get_policies(store.settings.tickets).describe())


def setup(app: web.Application) -> None:
    """The routes (the app holds :data:`gateway.web.keys.DESK`)."""
    t = r"/api/desk/tickets/{id:\d+}"
    r = app.router
    r.add_get("/api/desk/tickets", list_tickets, name="desk_tickets")
    r.add_get(t, ticket_detail, name="desk_ticket")
    r.add_post(t + "/status", set_status, name="desk_status")
    r.add_post(t + "/priority", set_priority, name="desk_priority")
    r.add_post(t + "/category", set_category, name="desk_category")
    r.add_post(t + "/assign", assign, name="desk_assign")
    r.add_post(t + "/transfer", transfer, name="desk_transfer")
    r.add_post(t + "/escalate", escalate, name="desk_escalate")
    r.add_get(t + "/appointments", ticket_appointments, name="desk_ticket_appointments")
    r.add_post(t + "/appointments", schedule, name="desk_schedule")
    r.add_get("/api/desk/appointments", appointments, name="desk_appointments")
    r.add_post(
        r"/api/desk/appointments/{id:\d+}/{action:done|cancel}",
        finish_appointment,
        name="desk_finish_appointment",
    )
    r.add_get("/api/desk/queues", queues, name="desk_queues")
    r.add_post("/api/desk/queues", save_queue, name="desk_save_queue")
    r.add_put(r"/api/desk/queues/{name:[A-Za-z0-9_-]+}/members", set_members, name="desk_members")
    r.add_post(r"/api/desk/queues/{name:[A-Za-z0-9_-]+}/round-robin", round_robin, name="desk_round_robin")
    r.add_get("/api/desk/presence", presence, name="desk_presence")
    r.add_post("/api/desk/presence", presence, name="desk_set_presence")
    r.add_get("/api/desk/canned", canned, name="desk_canned")
    r.add_post("/api/desk/canned", save_canned, name="desk_add_canned")
    r.add_put(r"/api/desk/canned/{id:\d+}", save_canned, name="desk_edit_canned")
    r.add_delete(r"/api/desk/canned/{id:\d+}", delete_canned, name="desk_delete_canned")
    r.add_post(r"/api/desk/canned/{id:\d+}/render", render_canned, name="desk_render_canned")
    r.add_put(r"/api/desk/customers/{id:\d+}/tier", set_tier, name="desk_tier")
    r.add_get("/api/desk/sla/policies", sla_policies, name="desk_sla_policies")
    desk_views_api.setup(app)  # /api/desk/operators: colleagues, presence, load
