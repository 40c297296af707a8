"""Console and API security: session authentication, CSRF, security headers.

Every route under ``/console``, ``/admin`` and ``/api`` needs a valid session cookie, except
the login page and the console's static files.  Anonymous visitors of an HTML page
are redirected to the login form; API and WebSocket clients get ``401`` JSON.
Every state-changing request must carry the session's CSRF token, in the
``X-CSRF-Token`` header or (HTML forms) the ``csrf_token`` field.  The login form
itself is protected by a signed double-submit cookie.
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

from gateway.auth import load_session
from gateway.views import UserView
from gateway.web.keys import CLOCK, SECRET, SESSIONS, SETTINGS

SESSION_COOKIE = "guichet_session"
PRELOGIN_COOKIE = "guichet_prelogin"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/console/login"
STATIC_PREFIX = "/console/static/"
PUBLIC_PATHS = frozenset({LOGIN_PATH})
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

# What the middleware puts on an authenticated request.
USER = web.RequestKey("console_user", UserView)
CSRF = web.RequestKey("console_csrf", str)


# ----------------------------------------------------------------- helpers


def is_protected(path: str) -> bool:
    return path in ("/console", "/api", "/admin") or path.startswith(("/console/", "/api/", "/admin/"))


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(STATIC_PREFIX)


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


@web.middleware
async def console_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not is_protected(path):
        return await handler(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    loaded = await load_session(request.app[SESSIONS], cookie, request.app[CLOCK]) if cookie else None
    if loaded is not None:
        request[USER], request[CSRF] = loaded
    if is_public(path):
        return await handler(request)
    if loaded is None:
        if wants_json(request):
            response = json_error(401, "unauthorized", "Log in to use the console.")
            if cookie:
                clear_session_cookie(response)
            return response
        return login_redirect(request)
    if request.method in UNSAFE_METHODS:
        submitted = await _submitted_csrf(request)
        if not submitted or not hmac.compare_digest(submitted, request[CSRF]):
            if wants_json(request):
                return json_error(403, "csrf", "Missing or wrong CSRF token; reload the page.")
            raise web.HTTPForbidden(text="Missing or wrong CSRF token; reload the page.")
    return await handler(request)


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
    app.on_response_prepare.append(add_security_headers)
