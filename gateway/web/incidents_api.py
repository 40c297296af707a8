"""Incidents over the API (console session and CSRF, or an API token).  Registered by
one line in :mod:`gateway.app`, with the periodic scan.

Reading is for every operator (``tickets:read``); changing an incident is for
supervisors (``tickets:manage``).

``GET /api/desk/incidents?status=open|closed|all``, ``GET /api/desk/incidents/{id}``
``POST /api/desk/incidents`` ``{"title", "ticket_ids"}`` open one by hand
``POST /api/desk/incidents/scan`` look for bursts of similar tickets now
``POST /api/desk/incidents/{id}/link`` / ``unlink`` ``{"ticket_ids": [...]}``
``POST /api/desk/incidents/{id}/announce`` ``{"text"}`` the status message to every
    linked ticket's customer, once each (a repeat sends only to those who lack it)
``POST /api/desk/incidents/{id}/close``
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.auth.roles import TICKETS_MANAGE, TICKETS_READ
from gateway.flow.store import SqlStore
from gateway.tickets.incident_scan import incident_scanner, scan_once
from gateway.web.desk_schemas import OBJ, STR, TAGS
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK_EXTRAS
from gateway.web.request_fields import fits_int, path_id
from gateway.web.route_docs import Param, describe
from gateway.web.security import USER, json_response

IDS = {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 500}
INCIDENT = {200: ("the incident and its tickets", OBJ)}


def _ticket_ids(body: dict[str, Any]) -> list[Any]:
    ids = body.get("ticket_ids")
    if not isinstance(ids, list) or any(isinstance(i, int) and not fits_int(i) for i in ids):
        raise BadRequest("invalid_ticket_ids", '"ticket_ids" is a list of ticket ids.')
    return ids  # the service checks the rest


@describe(
    TICKETS_READ,
    "Incidents (bursts of similar tickets)",
    tags=TAGS,
    query=(Param("status", STR, "open (default), closed, all"),),
    responses={200: ("incidents", OBJ)},
)
@api
async def incidents(request: web.Request) -> web.StreamResponse:
    items = await request.app[DESK_EXTRAS].incidents.listing(request.query.get("status", "open"))
    return json_response({"incidents": items})


@describe(TICKETS_READ, "An incident with its tickets", tags=TAGS, responses=INCIDENT)
@api
async def incident(request: web.Request) -> web.StreamResponse:
    return json_response(await request.app[DESK_EXTRAS].incidents.detail(path_id(request)))


@describe(
    TICKETS_MANAGE,
    "Open an incident by hand",
    tags=TAGS,
    body={"type": "object", "required": ["title"],
          "properties": {"title": {"type": "string", "maxLength": 300}, "ticket_ids": IDS}},
    responses={201: ("the incident", OBJ)},
    audit="incident.create",
)
@api
async def create(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    title = body.get("title")
    if not isinstance(title, str):
        raise BadRequest("invalid_title", '"title" is a string.')
    ids = _ticket_ids(body) if "ticket_ids" in body else []
    item = await request.app[DESK_EXTRAS].incidents.create(title, request[USER], ids)
    return json_response(item, status=201)


@describe(
    TICKETS_MANAGE,
    "Look for bursts of similar tickets now",
    tags=TAGS,
    body=None,
    body_required=False,
    responses={200: ("incidents raised and grown", OBJ)},
    audit="incident.scan",
)
@api
async def scan(request: web.Request) -> web.StreamResponse:
    report = await scan_once(request.app[DESK_EXTRAS].incidents.store)
    return json_response({"raised": report.raised, "grown": {str(k): v for k, v in report.grown.items()}})


@describe(
    TICKETS_MANAGE,
    "Link tickets to an incident",
    tags=TAGS,
    body={"type": "object", "required": ["ticket_ids"], "properties": {"ticket_ids": IDS}},
    responses=INCIDENT,
    audit="incident.link",
    subject="incident",
)
@api
async def link(request: web.Request) -> web.StreamResponse:
    ids = _ticket_ids(await json_body(request))
    service = request.app[DESK_EXTRAS].incidents
    if request.match_info["action"] == "unlink":
        return json_response(await service.unlink(path_id(request), ids, request[USER]))
    return json_response(await service.link(path_id(request), ids, request[USER]))


@describe(
    TICKETS_MANAGE,
    "Send one status message to every linked ticket's customer (once each)",
    tags=TAGS,
    body={"type": "object", "required": ["text"],
          "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 10000}}},
    responses={200: ("sent, already sent, skipped; the incident", OBJ)},
    audit="incident.announce",
    subject="incident",
)
@api
async def announce(request: web.Request) -> web.StreamResponse:
    text = (await json_body(request)).get("text")
    if not isinstance(text, str):
        raise BadRequest("invalid_text", '"text" is the status message.')
    done = await request.app[DESK_EXTRAS].incidents.announce(path_id(request), text, request[USER])
    return json_response(done)


@describe(
    TICKETS_MANAGE,
    "Close an incident",
    tags=TAGS,
    body=None,
    body_required=False,
    responses=INCIDENT,
    audit="incident.close",
    subject="incident",
)
@api
async def close(request: web.Request) -> web.StreamResponse:
    return json_response(await request.app[DESK_EXTRAS].incidents.close(path_id(request), request[USER]))


def setup(app: web.Application, store: SqlStore) -> None:
    """The contact log, tags and incidents: their services, routes and the scan."""
    from gateway.tickets.desk_extras import DeskExtras
    from gateway.web import desk_contacts_api

    app[DESK_EXTRAS] = DeskExtras.on(store)
    desk_contacts_api.setup(app)
    i = r"/api/desk/incidents/{id:\d+}"
    r = app.router
    r.add_get("/api/desk/incidents", incidents, name="desk_incidents")
    r.add_post("/api/desk/incidents", create, name="desk_create_incident")
    r.add_post("/api/desk/incidents/scan", scan, name="desk_scan_incidents")
    r.add_get(i, incident, name="desk_incident")
    r.add_post(i + "/{action:link|unlink}", link, name="desk_link_incident")
    r.add_post(i + "/announce", announce, name="desk_announce_incident")
    r.add_post(i + "/close", close, name="desk_close_incident")
    app.cleanup_ctx.append(incident_scanner(store))
