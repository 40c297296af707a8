"""The ticket desk's REST API under ``/api/desk`` (console session and CSRF, as
:mod:`gateway.web.console_api`; errors ``{"error", "message"}``): the ticket views and
search, one ticket's detail, and its changes (status, priority, category, assignment,
transfer, escalation).  :func:`setup` registers these and the desk's other modules:
appointments (:mod:`~gateway.web.desk_appointments_api`), queues and presence
(:mod:`~gateway.web.desk_queues_api`), canned responses (:mod:`~gateway.web.desk_canned_api`),
SLA policies and customer tiers (:mod:`~gateway.web.desk_sla_api`), colleagues
(:mod:`~gateway.web.desk_views_api`).

Roles: :func:`gateway.web.desk_roles.require_role`.  Changes return the recorded change
(``{"change": {kind, before, after, ...}}``) and the ticket as it now is.
"""

from __future__ import annotations

from aiohttp import web

from gateway.auth.roles import TICKETS_READ, TICKETS_WRITE
from gateway.tickets.history import TicketChange
from gateway.tickets.search import TicketQuery
from gateway.web import (
    desk_appointments_api,
    desk_canned_api,
    desk_queues_api,
    desk_sla_api,
    desk_views_api,
)
from gateway.web.desk_roles import require_role
from gateway.web.desk_schemas import INT, OBJ, REASON, STR, TAGS, obj
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK
from gateway.web.request_fields import fits_int, int_field, path_id, text_field, text_value
from gateway.web.route_docs import Param, describe
from gateway.web.security import json_response

DETAIL = {200: ("the change and the ticket as it now is", OBJ)}


def _list(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


async def _changed(request: web.Request, change: TicketChange) -> web.Response:
    detail = await request.app[DESK].desk.detail(change.ticket_id)
    return json_response({"change": change.to_dict(), **detail})


@describe(
    TICKETS_READ,
    "Ticket views, search, filters, sort",
    tags=TAGS,
    query=(
        Param("view", STR, "mine, unassigned, my_queues, open, pending, resolved, all"),
        Param("q", STR, "search subject, messages, customer, number"),
        Param("status", STR, "comma-separated statuses"),
        Param("priority", STR, "comma-separated P1..P4"),
        Param("queue", STR),
        Param("assignee", INT),
        Param("tag", STR, "only tickets with this tag"),
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
    if not fits_int(offset) or not fits_int(assignee or 0):  # the query checks the limit
        raise BadRequest("invalid_number", "limit, offset and assignee are numbers.")
    query = TicketQuery(
        view=q.get("view", "open"),
        text=q.get("q", ""),
        statuses=_list(q.get("status")),
        priorities=_list(q.get("priority")),
        queue=q.get("queue") or None,
        assignee_id=assignee,
        category=q.get("category"),
        tag=q.get("tag") or None,
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
    return json_response(await request.app[DESK].desk.detail(path_id(request)))


@describe(
    TICKETS_WRITE,
    "Change a ticket's status",
    tags=TAGS,
    body=obj(("status",), status=STR, reason=REASON),
    responses=DETAIL,
    audit="ticket.status",
    subject="ticket",
)
@api
async def set_status(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    status = text_field(body, "status")
    if not status:
        raise BadRequest("invalid_status", '"status" is required.')
    change = await request.app[DESK].desk.set_status(
        path_id(request), status, user, text_value(body, "reason")
    )
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Set urgency and impact, or the priority with a reason",
    tags=TAGS,
    body=obj(urgency=STR, impact=STR, priority=STR, reason=REASON),
    responses=DETAIL,
    audit="ticket.priority",
    subject="ticket",
)
@api
async def set_priority(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].desk.set_priority(
        path_id(request),
        user,
        urgency=text_field(body, "urgency"),
        impact=text_field(body, "impact"),
        value=text_field(body, "priority"),
        reason=text_value(body, "reason"),
    )
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Set a ticket's category",
    tags=TAGS,
    body=obj(category=STR),
    responses=DETAIL,
    audit="ticket.category",
    subject="ticket",
)
@api
async def set_category(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].desk.set_category(path_id(request), user, text_value(body, "category"))
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    'Assign to oneself ("me"), a colleague, or back to the queue (null)',
    tags=TAGS,
    body=obj(user_id={}, reason=REASON),
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
    if target is not None and not fits_int(target):
        raise BadRequest("invalid_user_id", '"user_id" is a user id, "me" or null (back to the queue).')
    change = await request.app[DESK].queues.assign(path_id(request), user, target, text_value(body, "reason"))
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Transfer to a queue or an operator, with a reason",
    tags=TAGS,
    body=obj(("reason",), queue=STR, user_id=INT, reason=REASON),
    responses=DETAIL,
    audit="ticket.transfer",
    subject="ticket",
)
@api
async def transfer(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].queues.transfer(
        path_id(request),
        user,
        queue=text_field(body, "queue"),
        to_user_id=int_field(body, "user_id"),
        reason=text_value(body, "reason"),
    )
    return await _changed(request, change)


@describe(
    TICKETS_WRITE,
    "Escalate to second level, with a reason",
    tags=TAGS,
    body=obj(("reason",), reason=REASON),
    responses=DETAIL,
    audit="ticket.escalate",
    subject="ticket",
)
@api
async def escalate(request: web.Request) -> web.StreamResponse:
    user = require_role(request, "operator")
    body = await json_body(request)
    change = await request.app[DESK].queues.escalate(path_id(request), user, text_value(body, "reason"))
    return await _changed(request, change)


def setup(app: web.Application) -> None:
    """The desk's routes (the app holds :data:`gateway.web.keys.DESK`)."""
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
    desk_appointments_api.setup(app)  # callbacks and follow-ups
    desk_queues_api.setup(app)  # queues, members, round-robin, presence
    desk_canned_api.setup(app)  # canned responses
    desk_sla_api.setup(app)  # customer tiers, SLA policies
    desk_views_api.setup(app)  # /api/desk/operators: colleagues, presence, load
