"""The contact log and tags of a ticket, and the categories, over the API (console
session and CSRF, or an API token).  Registered by one line in :mod:`gateway.app`.

``GET|POST /api/desk/tickets/{id}/contacts``
    the ticket's contacts; log one ``{"outcome", "channel": "phone"|"conversation",
    "direction": "in"|"out", "duration_seconds", "note", "at"}``.
``GET|POST /api/desk/tickets/{id}/tags``
    the ticket's tags; change them ``{"add": [...], "remove": [...]}``.
``GET /api/desk/tags?q=inv``
    tags in use starting so, most used first (the console's autocomplete).
``GET /api/desk/categories``
    the categories to offer: ``complaint`` and the others of the SLA policies, and
    those in use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.auth.roles import TICKETS_READ, TICKETS_WRITE
from gateway.db.tables import Ticket
from gateway.tickets.contacts import DIRECTIONS, OUTCOMES, ContactInput
from gateway.tickets.sla_clock import get_policies
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK_EXTRAS
from gateway.web.route_docs import Param, describe
from gateway.web.security import USER, json_response

TAGS = ("desk",)
OBJ: dict[str, Any] = {"type": "object"}
STR: dict[str, Any] = {"type": "string"}
STRINGS = {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 50}
BUILT_IN_CATEGORIES = ("complaint", "billing", "technical", "account")
CONTACT = {
    "type": "object",
    "required": ["outcome"],
    "properties": {
        "outcome": {"type": "string", "enum": list(OUTCOMES)},
        "channel": {"type": "string", "enum": ["phone", "conversation"]},
        "direction": {"type": "string", "enum": list(DIRECTIONS)},
        "duration_seconds": {"type": "integer", "minimum": 0, "maximum": 86400},
        "note": {"type": "string", "maxLength": 2000},
        "at": {"type": "string", "description": "ISO time with its offset; default now"},
    },
}


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _opt(body: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = body.get(key, default)
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
        raise BadRequest(f"invalid_{key}", f'"{key}" has the wrong type.')
    return value


@describe(TICKETS_READ, "A ticket's contact log", tags=TAGS, responses={200: ("contacts", OBJ)})
@api
async def contacts(request: web.Request) -> web.StreamResponse:
    return json_response({"contacts": await request.app[DESK_EXTRAS].contacts.listing(_id(request))})


@describe(
    TICKETS_WRITE,
    "Log a contact with its outcome (a phone call by hand, or the ticket's own channel)",
    tags=TAGS,
    body=CONTACT,
    responses={201: ("the contact", OBJ)},
    audit="ticket.contact",
    subject="ticket",
)
@api
async def log_contact(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    raw_at = _opt(body, "at", str)
    try:
        at = datetime.fromisoformat(raw_at) if raw_at else None
    except ValueError as exc:
        raise BadRequest("invalid_at", '"at" is an ISO time with its offset.') from exc
    contact = ContactInput(
        outcome=_opt(body, "outcome", str, "") or "",
        channel=_opt(body, "channel", str, "phone") or "phone",
        direction=_opt(body, "direction", str, "in") or "in",
        duration_seconds=_opt(body, "duration_seconds", int),
        note=_opt(body, "note", str, "") or "",
        at=at,
    )
    item = await request.app[DESK_EXTRAS].contacts.log(_id(request), request[USER], contact)
    return json_response({"contact": item}, status=201)


@describe(TICKETS_READ, "A ticket's tags", tags=TAGS, responses={200: ("tags", OBJ)})
@api
async def ticket_tags(request: web.Request) -> web.StreamResponse:
    return json_response({"tags": await request.app[DESK_EXTRAS].tags.of_ticket(_id(request))})


@describe(
    TICKETS_WRITE,
    "Add and remove a ticket's tags (normalised)",
    tags=TAGS,
    body={"type": "object", "properties": {"add": STRINGS, "remove": STRINGS}},
    responses={200: ("the ticket's tags", OBJ)},
    audit="ticket.tags",
    subject="ticket",
)
@api
async def change_tags(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    add, remove = body.get("add", []), body.get("remove", [])
    if not isinstance(add, list) or not isinstance(remove, list):
        raise BadRequest("invalid_tags", '"add" and "remove" are lists of tags.')
    tags = await request.app[DESK_EXTRAS].tags.change(_id(request), request[USER], add=add, remove=remove)
    return json_response({"tags": tags})


@describe(
    TICKETS_READ,
    "Tags in use, for autocomplete",
    tags=TAGS,
    query=(Param("q", STR, "the start of a tag"),),
    responses={200: ("tags with their number of tickets", OBJ)},
)
@api
async def suggest_tags(request: web.Request) -> web.StreamResponse:
    prefix = request.query.get("q", "")[:100]
    return json_response({"tags": await request.app[DESK_EXTRAS].tags.suggest(prefix)})


@describe(TICKETS_READ, "Ticket categories to offer", tags=TAGS, responses={200: ("categories", OBJ)})
@api
async def categories(request: web.Request) -> web.StreamResponse:
    store = request.app[DESK_EXTRAS].tags.store
    described = get_policies(store.settings.tickets).describe()
    from_policies = [p["conditions"].get("category") for p in described["policies"]]
    async with store.read() as tx:
        stmt = select(Ticket.category).where(Ticket.category != "").distinct().limit(200)
        in_use = [str(c) for c in (await tx.session.execute(stmt)).scalars()]
    named = [str(c) for c in from_policies if c]
    found = list(dict.fromkeys([*BUILT_IN_CATEGORIES, *named, *sorted(in_use)]))
    return json_response({"categories": found})


def setup(app: web.Application) -> None:
    t = r"/api/desk/tickets/{id:\d+}"
    r = app.router
    r.add_get(t + "/contacts", contacts, name="desk_contacts")
    r.add_post(t + "/contacts", log_contact, name="desk_log_contact")
    r.add_get(t + "/tags", ticket_tags, name="desk_ticket_tags")
    r.add_post(t + "/tags", change_tags, name="desk_change_tags")
    r.add_get("/api/desk/tags", suggest_tags, name="desk_tags")
    r.add_get("/api/desk/categories", categories, name="desk_categories")
