"""JSON API for accounts, API tokens and the audit log.

=======  ============================  ========================================  ===============
GET      /api/admin/users              ``{users: [...]}``                         accounts:admin
POST     /api/admin/users              create ``{name, password, role, display_name}``
PATCH    /api/admin/users/{id}         ``{role?, active?}``
POST     /api/admin/users/{id}/password  ``{password}``: sessions end
GET      /api/admin/tokens             ``{tokens: [...]}`` (never the secret)
POST     /api/admin/tokens             ``{name, user, scopes, days?}`` → 201 ``{token, secret}``
DELETE   /api/admin/tokens/{id}        revoke
GET      /api/audit                    ``{entries: [...]}`` newest first         audit:read
=======  ============================  ========================================  ===============
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from gateway.audit import actor_for, list_entries
from gateway.auth.roles import ACCOUNTS_ADMIN, AUDIT_READ, ROLES, SCOPES
from gateway.auth.tokens import create_token, list_tokens, revoke_token
from gateway.auth.users import change_role, create_user, list_users, reset_password, set_active
from gateway.views import UserView
from gateway.web.access import Param, describe
from gateway.web.helpers import BadRequest, api, json_body
from gateway.web.keys import CLOCK, SESSIONS
from gateway.web.request_fields import path_id
from gateway.web.security import USER, json_response

ACCOUNTS = ("accounts",)
OBJECT = {"type": "object"}
USER_OUT = {200: ("the account", {"type": "object", "properties": {"user": OBJECT}})}
TOKEN_OUT = {200: ("the token", {"type": "object", "properties": {"token": OBJECT}})}
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 1024}
MAX_TOKEN_DAYS = 3650


def user_dict(user: UserView) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "display_name": user.display_name, "role": user.role,
            "active": user.active}


def _str(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise BadRequest("invalid_field", f"{key} must be text.")
    return value


@describe(ACCOUNTS_ADMIN, "List accounts", tags=ACCOUNTS,
          responses={200: ("accounts", {"type": "object", "properties": {"users": {"type": "array"}}})})
@api
async def users(request: web.Request) -> web.StreamResponse:
    return json_response({"users": [user_dict(u) for u in await list_users(request.app[SESSIONS])]})


@describe(ACCOUNTS_ADMIN, "Create an account", tags=ACCOUNTS, body={
    "type": "object", "required": ["name", "password"], "properties": {
        "name": {"type": "string"}, "password": PASSWORD, "role": {"type": "string", "enum": list(ROLES)},
        "display_name": {"type": "string", "maxLength": 200}}},
    responses={201: ("created", {"type": "object", "properties": {"user": OBJECT}})})
@api
async def create(request: web.Request) -> web.StreamResponse:
    data = await json_body(request)
    user = await create_user(request.app[SESSIONS], _str(data, "name"), _str(data, "password"),
                             _str(data, "role", "operator"), _str(data, "display_name", ""),
                             clock=request.app[CLOCK], actor=actor_for(request[USER]))
    return json_response({"user": user_dict(user)}, status=201)


@describe(ACCOUNTS_ADMIN, "Change an account's role or deactivate it", tags=ACCOUNTS, body={
    "type": "object", "properties": {"role": {"type": "string", "enum": list(ROLES)},
                                     "active": {"type": "boolean"}}}, responses=USER_OUT)
@api
async def update(request: web.Request) -> web.StreamResponse:
    data = await json_body(request)
    sessions, clock, actor = request.app[SESSIONS], request.app[CLOCK], actor_for(request[USER])
    if "active" in data and not isinstance(data["active"], bool):
        raise BadRequest("invalid_field", "active must be true or false.")
    if "role" not in data and "active" not in data:
        raise BadRequest("invalid_field", "Give a role or active.")
    user = None
    if "role" in data:
        user = await change_role(sessions, path_id(request), _str(data, "role"), actor=actor, clock=clock)
    if "active" in data:
        user = await set_active(sessions, path_id(request), data["active"], actor=actor, clock=clock)
    assert user is not None
    return json_response({"user": user_dict(user)})


@describe(ACCOUNTS_ADMIN, "Set a new password (the account's sessions end)", tags=ACCOUNTS,
          body={"type": "object", "required": ["password"], "properties": {"password": PASSWORD}},
          responses=USER_OUT)
@api
async def password(request: web.Request) -> web.StreamResponse:
    data = await json_body(request)
    user = await reset_password(request.app[SESSIONS], path_id(request), _str(data, "password"),
                                actor=actor_for(request[USER]), clock=request.app[CLOCK])
    return json_response({"user": user_dict(user)})


@describe(ACCOUNTS_ADMIN, "List API tokens", tags=ACCOUNTS,
          responses={200: ("tokens", {"type": "object", "properties": {"tokens": {"type": "array"}}})})
@api
async def tokens(request: web.Request) -> web.StreamResponse:
    return json_response({"tokens": [t.to_dict() for t in await list_tokens(request.app[SESSIONS])]})


@describe(ACCOUNTS_ADMIN, "Create an API token (its secret is in this response only)", tags=ACCOUNTS, body={
    "type": "object", "required": ["name", "user", "scopes"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "user": {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "account id or name"},
        "scopes": {"type": "array", "items": {"type": "string", "enum": list(SCOPES)}},
        "days": {"type": "integer", "minimum": 0, "maximum": MAX_TOKEN_DAYS}}},
    responses={201: ("created", {"type": "object",
                                 "properties": {"token": OBJECT, "secret": {"type": "string"}}})})
@api
async def create_api_token(request: web.Request) -> web.StreamResponse:
    data = await json_body(request)
    user, scopes, days = data.get("user"), data.get("scopes"), data.get("days", 0)
    if not isinstance(user, int | str) or isinstance(user, bool):
        raise BadRequest("invalid_field", "user must be an account id or name.")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise BadRequest("invalid_field", "scopes must be a list of scope names.")
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_TOKEN_DAYS:
        raise BadRequest("invalid_field", f"days must be a number from 0 to {MAX_TOKEN_DAYS}.")
    clock = request.app[CLOCK]
    expires = clock.now() + timedelta(days=days) if days else None
    secret, view = await create_token(request.app[SESSIONS], _str(data, "name"), user, scopes,
                                      actor=actor_for(request[USER]), clock=clock, expires_at=expires)
    return json_response({"token": view.to_dict(), "secret": secret}, status=201)


@describe(ACCOUNTS_ADMIN, "Revoke an API token", tags=ACCOUNTS, responses=TOKEN_OUT)
@api
async def revoke(request: web.Request) -> web.StreamResponse:
    view = await revoke_token(request.app[SESSIONS], path_id(request), actor=actor_for(request[USER]),
                              clock=request.app[CLOCK])
    return json_response({"token": view.to_dict()})


def _opt_int(request: web.Request, key: str) -> int | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return None
    if not raw.isdecimal() or int(raw) > 2**31 - 1:
        raise BadRequest("invalid_" + key, f"{key} must be a positive number.")
    return int(raw)


@describe(AUDIT_READ, "The audit log, newest first", tags=("audit",), query=(
    Param("subject_type", {"type": "string"}, "ticket, conversation, customer, user, api_token, ..."),
    Param("subject_id", {"type": "string"}),
    Param("actor_id", {"type": "integer", "minimum": 0}),
    Param("action", {"type": "string"}, "an action, or a prefix ending in '.' (\"user.\")"),
    Param("before_id", {"type": "integer", "minimum": 0}, "older than this entry (paging)"),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": 500})),
    responses={200: ("entries", {"type": "object", "properties": {"entries": {"type": "array"}}})})
@api
async def audit_log(request: web.Request) -> web.StreamResponse:
    q = request.query
    limit = _opt_int(request, "limit") or 100
    entries = await list_entries(
        request.app[SESSIONS], subject_type=q.get("subject_type") or None,
        subject_id=q.get("subject_id") or None, actor_id=_opt_int(request, "actor_id"),
        action=q.get("action") or None, before_id=_opt_int(request, "before_id"), limit=min(limit, 500),
    )
    return json_response({"entries": [e.to_dict() for e in entries]})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/admin/users", users, name="api_admin_users")
    r.add_post("/api/admin/users", create, name="api_admin_user_create")
    r.add_patch(r"/api/admin/users/{id:\d+}", update, name="api_admin_user")
    r.add_post(r"/api/admin/users/{id:\d+}/password", password, name="api_admin_user_password")
    r.add_get("/api/admin/tokens", tokens, name="api_admin_tokens")
    r.add_post("/api/admin/tokens", create_api_token, name="api_admin_token_create")
    r.add_delete(r"/api/admin/tokens/{id:\d+}", revoke, name="api_admin_token")
    r.add_get("/api/audit", audit_log, name="api_audit")
