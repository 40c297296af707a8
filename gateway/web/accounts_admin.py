"""The accounts admin page, ``/admin/accounts`` (admin role): accounts (create,
change role, deactivate or reactivate, reset a password), API tokens (create with
scopes, shown once; revoke) and the latest audit entries.  Its buttons are plain
forms carrying the session's CSRF token; the JSON API is
:mod:`gateway.web.accounts_api`.  :func:`setup_accounts` also adds the customers
API (:mod:`gateway.web.customers_api`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from gateway.audit import actor_for, list_entries
from gateway.auth.roles import ACCOUNTS_ADMIN, DESCRIPTIONS, ROLES, SCOPES, grants
from gateway.auth.tokens import create_token, list_tokens, revoke_token
from gateway.auth.users import change_role, create_user, list_users, reset_password, set_active
from gateway.errors import GuichetError, InvalidInputError, NotFoundError
from gateway.web import accounts_api, customers_api
from gateway.web.access import describe
from gateway.web.helpers import render
from gateway.web.keys import CLOCK, SESSIONS
from gateway.web.security import CSRF, USER, redirect

PAGE = "/admin/accounts"
AUDIT_SHOWN = 50
DONE = {
    "created": "The account is created.",
    "role": "The role is changed; it applies to the account's next request.",
    "activated": "The account is active again.",
    "deactivated": "The account is deactivated: logged out, its tokens stopped.",
    "password": "The password is changed; the account's sessions ended.",
    "revoked": "The token is revoked.",
}


def _status(exc: GuichetError) -> int:
    return 404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, InvalidInputError) else 409


async def accounts_page(
    request: web.Request, *, error: str = "", status: int = 200, secret: str = ""
) -> web.StreamResponse:
    sessions, now = request.app[SESSIONS], request.app[CLOCK].now()
    tokens = [{**t.to_dict(), "active": t.active(now)} for t in await list_tokens(sessions)]
    context: dict[str, Any] = {
        "user": request[USER], "csrf": request[CSRF],
        "users": await list_users(sessions), "roles": ROLES,
        "scopes": [(s, DESCRIPTIONS.get(s, "")) for s in SCOPES], "tokens": tokens,
        "audit": [e.to_dict() for e in await list_entries(sessions, limit=AUDIT_SHOWN)],
        "done": DONE.get(request.query.get("done", ""), ""), "error": error, "secret": secret,
        "role_scopes": {r: sorted(grants(r) & set(SCOPES)) for r in ROLES},
    }
    return render(request, "accounts_admin.html", context, status)


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@describe(ACCOUNTS_ADMIN, "Accounts admin page", page_subject="Accounts")
async def page(request: web.Request) -> web.StreamResponse:
    return await accounts_page(request)


@describe(ACCOUNTS_ADMIN, "Change an account (form)", page_subject="Accounts")
async def user_form(request: web.Request) -> web.StreamResponse:
    """Create (no id), or change the role, active state or password of an account."""
    form = await _form(request)
    sessions, clock, actor = request.app[SESSIONS], request.app[CLOCK], actor_for(request[USER])
    verb = request.match_info.get("verb", "create")
    try:
        if verb == "create":
            await create_user(sessions, form.get("name", ""), form.get("password", ""),
                              form.get("role", "operator"), form.get("display_name", ""), clock=clock,
                              actor=actor)
            done = "created"
        else:
            user_id = int(request.match_info["id"])
            if verb == "role":
                await change_role(sessions, user_id, form.get("role", ""), actor=actor, clock=clock)
                done = "role"
            elif verb == "active":
                active = form.get("active") == "1"
                await set_active(sessions, user_id, active, actor=actor, clock=clock)
                done = "activated" if active else "deactivated"
            else:
                await reset_password(sessions, user_id, form.get("password", ""), actor=actor, clock=clock)
                done = "password"
    except GuichetError as exc:
        return await accounts_page(request, error=str(exc), status=_status(exc))
    return redirect(f"{PAGE}?done={done}")


@describe(ACCOUNTS_ADMIN, "Create an API token (form)", page_subject="Accounts")
async def token_form(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    scopes = [s for s in form.getall("scope", []) if isinstance(s, str)]
    days_raw, owner = str(form.get("days", "0") or "0"), str(form.get("user", ""))
    clock = request.app[CLOCK]
    try:
        if not days_raw.isdecimal() or int(days_raw) > accounts_api.MAX_TOKEN_DAYS:
            raise InvalidInputError("days must be a whole number of days (0: never expires)")
        expires = clock.now() + timedelta(days=int(days_raw)) if int(days_raw) else None
        secret, _view = await create_token(
            request.app[SESSIONS], str(form.get("name", "")), int(owner) if owner.isdecimal() else owner,
            scopes, actor=actor_for(request[USER]), clock=clock, expires_at=expires)
    except GuichetError as exc:
        return await accounts_page(request, error=str(exc), status=_status(exc))
    return await accounts_page(request, secret=secret, status=201)


@describe(ACCOUNTS_ADMIN, "Revoke an API token (form)", page_subject="Accounts")
async def revoke_form(request: web.Request) -> web.StreamResponse:
    try:
        await revoke_token(request.app[SESSIONS], int(request.match_info["id"]),
                           actor=actor_for(request[USER]), clock=request.app[CLOCK])
    except GuichetError as exc:
        return await accounts_page(request, error=str(exc), status=_status(exc))
    return redirect(f"{PAGE}?done=revoked")


def setup_accounts(app: web.Application) -> None:
    """The accounts page and its forms, the accounts and customers JSON APIs."""
    r = app.router
    r.add_get(PAGE, page, name="admin_accounts")
    r.add_post(PAGE + "/users", user_form, name="admin_accounts_create")
    r.add_post(PAGE + r"/users/{id:\d+}/{verb:role|active|password}", user_form, name="admin_accounts_user")
    r.add_post(PAGE + "/tokens", token_form, name="admin_accounts_token")
    r.add_post(PAGE + r"/tokens/{id:\d+}/revoke", revoke_form, name="admin_accounts_revoke")
    accounts_api.setup(app)
    customers_api.setup(app)
