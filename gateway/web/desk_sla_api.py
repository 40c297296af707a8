"""The SLA settings over the desk's API (console session and CSRF, or an API token;
errors ``{"error", "message"}``).  Registered by :func:`gateway.web.tickets_api.setup`.

``GET /api/desk/sla/policies``
    the SLA policies, calendars and priority matrix in force (operators).
``PUT /api/desk/customers/{id}/tier`` ``{"tier"}``
    a customer's service tier, which policies may depend on (supervisors; ``""``
    removes it).
"""

from __future__ import annotations

from aiohttp import web

from gateway.auth.roles import CUSTOMERS_WRITE, TICKETS_READ
from gateway.tickets.sla_clock import get_policies
from gateway.web.desk_roles import require_role
from gateway.web.desk_schemas import OBJ, STR, TAGS, obj
from gateway.web.helpers import api, json_body
from gateway.web.keys import DESK
from gateway.web.request_fields import path_id, text_value
from gateway.web.route_docs import describe
from gateway.web.security import json_response


@describe(
    CUSTOMERS_WRITE,
    "Set a customer's service tier (SLA policies may depend on it)",
    tags=TAGS,
    body=obj(tier=STR),
    responses={200: ("the tier", OBJ)},
    audit="customer.tier",
    subject="customer",
)
@api
async def set_tier(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor")
    tier = text_value(await json_body(request), "tier")
    await request.app[DESK].desk.set_customer_tier(path_id(request), tier)
    return json_response({"customer_id": path_id(request), "tier": tier.strip().lower()})


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
    r = app.router
    r.add_put(r"/api/desk/customers/{id:\d+}/tier", set_tier, name="desk_tier")
    r.add_get("/api/desk/sla/policies", sla_policies, name="desk_sla_policies")
