"""Console and API security: who is calling, what they may do, CSRF, security headers.

Every route needs a logged-in session or an API token, except the short public list
in :mod:`gateway.web.access` (the widget, health checks, the login page, static
files).  Two ways in:

- the console's session cookie: every state-changing request must also carry the
  session's CSRF token, in the ``X-CSRF-Token`` header or (HTML forms) the
  ``csrf_token`` field; the login form itself is protected by a signed
  double-submit cookie;
- ``Authorization: Bearer <token>`` (``/api`` only): a scoped API token an admin
  created (:mod:`gateway.auth.tokens`); no cookie is read, so no CSRF token is needed.

Then the route's permission (:func:`gateway.web.access.permission_of`) must be among
the caller's: their role's, and for a token also its scopes.  Anonymous visitors of
a page are redirected to the login form; API and WebSocket clients get ``401``
JSON; a caller without the permission gets ``403``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import nh3
from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.audit import reset_current_actor, set_current_actor
from gateway.auth import load_session
from gateway.auth.roles import ADMIN, DESCRIPTIONS, grants
from gateway.auth.tokens import authenticate_token
from gateway.views import UserView
from gateway.web.access import (
    LOGIN_PATH,
    PRINCIPAL,
    STATIC_PREFIX,
    Principal,
    RouteDoc,
    path_is_public,
    permission_of,
    roles_with,
    route_is_public,
)
from gateway.web.audit_trail import audit_middleware
from gateway.web.keys import CLOCK, JINJA, SECRET, SESSIONS, SETTINGS

SESSION_COOKIE = "guichet_session"
PRELOGIN_COOKIE = "guichet_prelogin"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
JSON_PATHS = frozenset({"/console/ws"})  # not pages: never redirected to the login form
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_ID = 2**31 - 1  # ids are 32-bit in the database: a larger one names nothing

# What the middleware puts on an authenticated request.
USER = web.RequestKey("console_user", UserView)
CSRF = web.RequestKey("console_csrf", str)  # sessions only


# ----------------------------------------------------------------- helpers


def is_protected(path: str) -> bool:
    return path in ("/console", "/api", "/admin") or path.startswith(("/console/", "/api/", "/admin/"))


def is_public(path: str) -> bool:
    """The login page, static files, the widget and health checks (by path)."""
    return path_is_public(path)


def wants_json(request: web.Request) -> bool:
    """API calls and WebSocket upgrades get JSON errors; pages get redirects."""
    path = request.path
    if path == "/api" or path.startswith("/api/") or path in JSON_PATHS:
        return True
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def json_dumps(data: Any) -> str:
    """JSON that is also safe if a browser ever sniffs it as HTML."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=json_dumps)


def json_error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": code, "message": message}, status=status)


def safe_next(value: str | None, default: str = "/console") -> str:
    """``value`` if it is a local path on this site (no scheme, no host), else ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(LOGIN_PATH):
        return default
    return value


def redirect(location: str) -> web.Response:
    """A 302 response (returned, not raised, so cookies can be set on it)."""
    return web.Response(status=302, headers={hdrs.LOCATION: location})


def login_redirect(request: web.Request) -> web.Response:
    return redirect(f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}")


def sanitize_html(html: str) -> str:
    """Email HTML made safe to show in a sandboxed frame: no script, no handlers,
    no forms or frames; links open without referrer or opener."""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")


def set_session_cookie(response: web.StreamResponse, request: web.Request, value: str) -> None:
    console = request.app[SETTINGS].console
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(console.session_hours * 3600),
        path="/",
        httponly=True,
        secure=console.cookie_secure,
        samesite="Strict",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


# ---------------------------------------------------- pre-login CSRF token


def _sign(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, f"prelogin:{nonce}".encode(), hashlib.sha256).hexdigest()


def prelogin_token(request: web.Request) -> tuple[str, str]:
    """``(form_token, cookie_value)`` for the login form.  An existing valid cookie is
    reused, so two open login tabs both work."""
    secret = request.app[SECRET]
    nonce = _prelogin_nonce(secret, request.cookies.get(PRELOGIN_COOKIE, ""))
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
    return nonce, f"{nonce}.{_sign(secret, nonce)}"


def set_prelogin_cookie(
    response: web.StreamResponse, request: web.Request, cookie_value: str
) -> None:
    response.set_cookie(
        PRELOGIN_COOKIE,
        cookie_value,
        max_age=3600,
        path=LOGIN_PATH,
        httponly=True,
        secure=request.app[SETTINGS].console.cookie_secure,
        samesite="Strict",
    )


def _prelogin_nonce(secret: bytes, cookie: str) -> str | None:
    nonce, _, signature = cookie.partition(".")
    if not nonce or not hmac.compare_digest(signature, _sign(secret, nonce)):
        return None
    return nonce


def check_prelogin_token(request: web.Request, form_token: str) -> bool:
    nonce = _prelogin_nonce(request.app[SECRET], request.cookies.get(PRELOGIN_COOKIE, ""))
    return nonce is not None and hmac.compare_digest(nonce, form_token)


# -------------------------------------------------------------- middleware


async def _submitted_csrf(request: web.Request) -> str:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    if request.content_type in FORM_TYPES:
        form = await request.post()  # cached: the handler can read it again
        value = form.get(CSRF_FIELD)
        if isinstance(value, str):
            return value
    return ""


def _bearer(request: web.Request) -> str | None:
    """The bearer token of the request; None when it sent no Authorization header."""
    value = request.headers.get(hdrs.AUTHORIZATION)
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(code: str, message: str) -> web.Response:
    response = json_error(401, code, message)
    response.headers[hdrs.WWW_AUTHENTICATE] = f'Bearer error="{code}"'
    return response


def _forbidden(
    request: web.Request, principal: Principal, permission: str, doc: RouteDoc | None
) -> web.Response:
    roles = roles_with(permission)
    if wants_json(request):
        what = DESCRIPTIONS.get(permission, permission)
        who = " or ".join(roles) or "nobody"
        detail = f"This needs the {permission!r} permission ({what}): roles {who}"
        if principal.via_token:
            detail += ", and a token with that scope"
        return json_error(403, "forbidden", detail + ".")
    if roles == [ADMIN] and CSRF in request:
        context = {"user": principal.user, "csrf": request[CSRF],
                   "subject": (doc.page_subject if doc and doc.page_subject else "This page")}
        html = request.app[JINJA].get_template("admin_forbidden.html").render(**context)
        return web.Response(text=html, status=403, content_type="text/html", charset="utf-8")
    raise web.HTTPForbidden(text=f"Your role ({principal.user.role}) may not use this page.")


def _too_large_id(request: web.Request) -> bool:
    return any(v.isdecimal() and int(v) > MAX_ID for v in request.match_info.values())


async def _authenticate(request: web.Request) -> Principal | web.Response | None:
    """The caller (also set on the request), an error response, or None (anonymous)."""
    bearer = _bearer(request)
    if bearer is not None:
        if not (request.path == "/api" or request.path.startswith("/api/")):
            return _unauthorized("invalid_request", "API tokens are accepted under /api only.")
        found = None
        if bearer:
            found = await authenticate_token(request.app[SESSIONS], bearer, request.app[CLOCK])
        if found is None:
            return _unauthorized("invalid_token", "The API token is unknown, revoked or expired.")
        principal = Principal(found.user, found.permissions, found.token)
        request[USER] = found.user
    else:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        loaded = await load_session(request.app[SESSIONS], cookie, request.app[CLOCK]) if cookie else None
        if loaded is None:
            return None
        request[USER], request[CSRF] = loaded
        principal = Principal(loaded[0], grants(loaded[0].role))
    request[PRINCIPAL] = principal
    return principal


@web.middleware
async def console_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    public = route_is_public(request)
    if public and not is_protected(path):
        return await handler(request)  # the widget, health checks: nothing to load
    if not public and not is_protected(path) and route_key_missing(request):
        return await handler(request)  # no such page: the 404
    found = await _authenticate(request)
    if isinstance(found, web.Response):
        return found
    if public:
        return await handler(request)
    if found is None:
        if wants_json(request):
            response = json_error(401, "unauthorized", "Log in to use the console.")
            if request.cookies.get(SESSION_COOKIE):
                clear_session_cookie(response)
            return response
        return login_redirect(request)
    if request.method in UNSAFE_METHODS and not found.via_token:
        submitted = await _submitted_csrf(request)
        if not submitted or not hmac.compare_digest(submitted, request[CSRF]):
            if wants_json(request):
                return json_error(403, "csrf", "Missing or wrong CSRF token; reload the page.")
            raise web.HTTPForbidden(text="Missing or wrong CSRF token; reload the page.")
    permission, doc = permission_of(request)
    if permission not in found.permissions:
        return _forbidden(request, found, permission, doc)
    if _too_large_id(request):
        return json_error(404, "not_found", "No such id.")
    token = set_current_actor(found.actor(request.remote or ""))
    try:
        return await handler(request)
    except HttpProcessingError as exc:  # a malformed body (multipart headers...) read by the handler
        return json_error(400, "invalid_request", f"The request body is malformed: {exc.message}")
    finally:
        reset_current_actor(token)


def route_key_missing(request: web.Request) -> bool:
    """True when no route matched (the answer is a 404 or 405)."""
    return request.match_info.http_exception is not None


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: headers on every response, including errors and static
    files.  The CSP and frame ban apply to the console and API only (other pages,
    such as the web-chat demo, set their own)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if is_protected(request.path):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
        if request.path.startswith(STATIC_PREFIX):
            headers.setdefault("Cache-Control", "no-cache")  # revalidate: new code after upgrades
        else:
            headers.setdefault("Cache-Control", "no-store")  # pages hold personal data


class LoginThrottle:
    """Slows password guessing: after ``limit`` failures for one user name from one
    address, or ``per_address`` failures from one address, within ``window``
    seconds, further attempts wait.  Keyed by address too, so a stranger cannot
    lock a colleague out.  In memory: one process's view, enough to make online
    guessing impractical."""

    def __init__(self, limit: int = 5, window: float = 900.0, per_address: int = 100) -> None:
        self.limit, self.window, self.per_address = limit, window, per_address
        self._failures: dict[str, list[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> list[datetime]:
        cutoff = now - timedelta(seconds=self.window)
        kept = [t for t in self._failures.get(key, []) if t > cutoff]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def retry_after(self, name: str, remote: str, now: datetime) -> float:
        """Seconds to wait before the next attempt; 0 if allowed now."""
        wait = 0.0
        for key, limit in ((self._user_key(name, remote), self.limit), (f"a:{remote}", self.per_address)):
            recent = self._recent(key, now)
            if len(recent) >= limit:
                wait = max(wait, (recent[-limit] - now).total_seconds() + self.window)
        return wait

    def failed(self, name: str, remote: str, now: datetime) -> None:
        for key in (self._user_key(name, remote), f"a:{remote}"):
            self._failures.setdefault(key, []).append(now)
        if len(self._failures) > 10_000:  # bound memory under a spray of names
            for key in list(self._failures):
                self._recent(key, now)

    def succeeded(self, name: str, remote: str) -> None:
        self._failures.pop(self._user_key(name, remote), None)

    @staticmethod
    def _user_key(name: str, remote: str) -> str:
        return f"u:{name.strip().lower()}:{remote}"


def setup_security(app: web.Application) -> None:
    app.middlewares.append(console_auth_middleware)
    app.middlewares.append(audit_middleware)  # inside: it sees who is calling
    app.on_response_prepare.append(add_security_headers)
