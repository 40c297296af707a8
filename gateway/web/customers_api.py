"""JSON API for customers: search, details with identities and conversations,
linking an identity, merging two customers, and GDPR export and erasure.

=======  ==================================  ============================================  ===============
GET      /api/customers?q=&conversation_id=  ``{customers: [...]}``                         customers:read
GET      /api/customers/{id}                 ``{customer, identities, conversations}``      customers:read
POST     /api/customers/{id}/identities      ``{channel, address, display_name?}`` → 201    customers:write
POST     /api/customers/{id}/merge           ``{source_id}``: source's data moves here      customers:write
GET      /api/customers/{id}/export          everything stored about the customer (JSON)    customers:gdpr
POST     /api/customers/{id}/erase           ``{confirm: true}`` → ``{removed: {...}}``     customers:gdpr
=======  ==================================  ============================================  ===============
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from gateway.audit import actor_for
from gateway.auth.roles import CUSTOMERS_GDPR, CUSTOMERS_READ, CUSTOMERS_WRITE
from gateway.customers import (
    add_identity,
    customer_detail,
    erase_customer,
    export_customer,
    find_customers,
    merge_customers,
)
from gateway.db.tables import Conversation
from gateway.web.access import Param, describe
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import CLOCK, SESSIONS
from gateway.web.request_fields import path_id
from gateway.web.security import USER, json_response

TAGS = ("customers",)
OBJECT = {"type": "object"}
DETAIL = {200: ("the customer", {"type": "object", "properties": {
    "customer": OBJECT, "identities": {"type": "array"}, "conversations": {"type": "array"}}})}
MAX_ID = 2**31 - 1


@describe(CUSTOMERS_READ, "Find customers", tags=TAGS, query=(
    Param("q", {"type": "string"}, "part of a name or an address"),
    Param("conversation_id", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
          "the customer of this conversation")),
    responses={200: ("customers", {"type": "object", "properties": {"customers": {"type": "array"}}})})
@api
async def find(request: web.Request) -> web.StreamResponse:
    sessions = request.app[SESSIONS]
    raw = request.query.get("conversation_id", "")
    if raw:
        if not raw.isdecimal() or int(raw) > MAX_ID:
            raise BadRequest("invalid_conversation_id", "conversation_id must be a conversation's id.")
        async with sessions() as session:
            cid = await session.scalar(select(Conversation.customer_id).where(Conversation.id == int(raw)))
        found = [(await customer_detail(sessions, cid))["customer"]] if cid is not None else []
    else:
        found = await find_customers(sessions, request.query.get("q", "")[:200])
    return json_response({"customers": found})


@describe(CUSTOMERS_READ, "A customer with identities and conversations", tags=TAGS, responses=DETAIL)
@api
async def detail(request: web.Request) -> web.StreamResponse:
    return json_response(await customer_detail(request.app[SESSIONS], path_id(request)))


@describe(CUSTOMERS_WRITE, "Link one more identity to a customer", tags=TAGS, body={
    "type": "object", "required": ["channel", "address"], "properties": {
        "channel": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"},
        "address": {"type": "string", "minLength": 1, "maxLength": 320},
        "display_name": {"type": "string", "maxLength": 200}}},
    responses={201: ("linked", {"type": "object", "properties": {"identity": OBJECT}})})
@api
async def link_identity(request: web.Request) -> web.StreamResponse:
    data = await json_body(request)
    fields = [data.get(k, "") for k in ("channel", "address", "display_name")]
    if not all(isinstance(f, str) for f in fields):
        raise BadRequest("invalid_field", "channel, address and display_name must be text.")
    identity = await add_identity(request.app[SESSIONS], path_id(request), *fields,
                                  actor=actor_for(request[USER]), clock=request.app[CLOCK])
    return json_response({"identity": identity}, status=201)


@describe(CUSTOMERS_WRITE, "Merge another customer into this one", tags=TAGS, body={
    "type": "object", "required": ["source_id"],
    "properties": {"source_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}}, responses=DETAIL)
@api
async def merge(request: web.Request) -> web.StreamResponse:
    source = (await json_body(request)).get("source_id")
    if not isinstance(source, int) or isinstance(source, bool) or not 0 < source <= MAX_ID:
        raise BadRequest("invalid_source_id", "source_id must be a customer's id.")
    merged = await merge_customers(request.app[SESSIONS], path_id(request), source,
                                   actor=actor_for(request[USER]), clock=request.app[CLOCK])
    return json_response(merged)


@describe(CUSTOMERS_GDPR, "GDPR export: everything stored about the customer", tags=TAGS,
          responses={200: ("the export", {"type": "object", "required": ["format", "customer"]})})
@api
async def export(request: web.Request) -> web.StreamResponse:
    document = await export_customer(request.app[SESSIONS], path_id(request), actor=actor_for(request[USER]),
                                     clock=request.app[CLOCK])
    response = json_response(document)
    response.headers["Content-Disposition"] = f'attachment; filename="customer-{path_id(request)}.json"'
    return response


@describe(CUSTOMERS_GDPR, "GDPR erasure: messages, identities, attachments and personal fields", tags=TAGS,
          body={"type": "object", "required": ["confirm"], "properties": {"confirm": {"type": "boolean"}}},
          responses={200: ("removed, by table", {"type": "object", "properties": {"removed": OBJECT}})})
@api
async def erase(request: web.Request) -> web.StreamResponse:
    if (await json_body(request)).get("confirm") is not True:
        raise BadRequest("confirm", 'Erasing cannot be undone: send {"confirm": true}.')
    removed = await erase_customer(request.app[SESSIONS], path_id(request), actor=actor_for(request[USER]),
                                   clock=request.app[CLOCK])
    return json_response({"removed": removed})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/customers", find, name="api_customers")
    r.add_get(r"/api/customers/{id:\d+}", detail, name="api_customer")
    r.add_post(r"/api/customers/{id:\d+}/identities", link_identity, name="api_customer_identities")
    r.add_post(r"/api/customers/{id:\d+}/merge", merge, name="api_customer_merge")
    r.add_get(r"/api/customers/{id:\d+}/export", export, name="api_customer_export")
    r.add_post(r"/api/customers/{id:\d+}/erase", erase, name="api_customer_erase")
