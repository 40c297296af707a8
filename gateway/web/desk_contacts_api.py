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

from aiohttp import web
from sqlalchemy import select

from gateway.auth.roles import TICKETS_READ, TICKETS_WRITE
from gateway.db.tables import Ticket
from gateway.tickets.contacts import DIRECTIONS, OUTCOMES, ContactInput
from gateway.tickets.sla_clock import get_policies
from gateway.web.desk_schemas import OBJ, STR, TAGS
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import DESK_EXTRAS
from gateway.web.request_fields import int_field, path_id, text_value, time_field
from gateway.web.route_docs import Param, describe
from gateway.web.security import USER, json_response

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


@describe(TICKETS_READ, "A ticket's contact log", tags=TAGS, responses={200: ("contacts", OBJ)})
@api
async def contacts(request: web.Request) -> web.StreamResponse:
    return json_response({"contacts": await request.app[DESK_EXTRAS].contacts.listing(path_id(request))})


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
    contact = ContactInput(
        outcome=text_value(body, "outcome"),
        channel=text_value(body, "channel", "phone"),
        direction=text_value(body, "direction", "in"),
        duration_seconds=int_field(body, "duration_seconds"),
        note=text_value(body, "note"),
        at=time_field(body, "at"),
    )
    item = await request.app[DESK_EXTRAS].contacts.log(path_id(request), request[USER], contact)
    return json_response({"contact": item}, status=201)


@describe(TICKETS_READ, "A ticket's tags", tags=TAGS, responses={200: ("tags", OBJ)})
@api
async def ticket_tags(request: web.Request) -> web.StreamResponse:
    return json_response({"tags": await request.app[DESK_EXTRAS].tags.of_ticket(path_id(request))})


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
    tags = await request.app[DESK_EXTRAS].tags.change(path_id(request), request[USER], add=add, remove=remove)
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
