"""Callbacks and follow-ups over the desk's API (console session and CSRF, or an API
token; errors ``{"error", "message"}``).  Registered by :func:`gateway.web.tickets_api.setup`.

``GET|POST /api/desk/tickets/{id}/appointments``
    a ticket's appointments; schedule one ``{"due_at", "kind", "note", "phone",
    "owner_id", "tell_customer", "timezone"}``.
``GET /api/desk/appointments?mine=1&status=...``
    appointments (mine, missed...).
``POST /api/desk/appointments/{id}/done`` / ``cancel`` ``{"outcome"}``
"""

from __future__ import annotations

from aiohttp import web

from gateway.auth.roles import TICKETS_READ, TICKETS_WRITE
from gateway.web.desk_roles import require_role
from gateway.web.desk_schemas import BOOL, INT, OBJ, STR, TAGS, obj
from gateway.web.helpers import api, json_body
from gateway.web.keys import DESK
from gateway.web.request_fields import flag_field, int_field, path_id, required_time, text_value
from gateway.web.route_docs import Param, describe
from gateway.web.security import json_response


@describe(TICKETS_READ, "A ticket's appointments", tags=TAGS, responses={200: ("appointments", OBJ)})
@api
async def ticket_appointments(request: web.Request) -> web.StreamResponse:
    require_role(request, "operator")
    items = await request.app[DESK].appointments.listing(ticket_id=path_id(request))
    return json_response({"appointments": items})


@describe(
    TICKETS_WRITE,
    "Schedule a callback or follow-up",
    tags=TAGS,
    body=obj(
        ("due_at",),
        due_at=STR,
        kind=STR,
        note=STR,
        phone=STR,
        owner_id=INT,
        tell_customer=BOOL,
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
    item = await request.app[DESK].appointments.schedule(
        path_id(request),
        user,
        required_time(body, "due_at"),
        kind=text_value(body, "kind", "callback"),
        note=text_value(body, "note"),
        phone=text_value(body, "phone"),
        owner_id=int_field(body, "owner_id"),
        tell_customer=flag_field(body, "tell_customer"),
        timezone=text_value(body, "timezone", "UTC"),
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
    body=obj(outcome=STR),
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
        path_id(request), user, status=status, outcome=text_value(body, "outcome")
    )
    return json_response({"appointment": item})


def setup(app: web.Application) -> None:
    t = r"/api/desk/tickets/{id:\d+}"
    r = app.router
    r.add_get(t + "/appointments", ticket_appointments, name="desk_ticket_appointments")
    r.add_post(t + "/appointments", schedule, name="desk_schedule")
    r.add_get("/api/desk/appointments", appointments, name="desk_appointments")
    r.add_post(
        r"/api/desk/appointments/{id:\d+}/{action:done|cancel}",
        finish_appointment,
        name="desk_finish_appointment",
    )
