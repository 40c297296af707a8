"""What each route needs, in one place: its permission, its API description and
what the audit log records about it.

A route's :class:`RouteDoc` comes from, in this order:

1. the handler itself, decorated with :func:`describe` (new API modules do this)::

       @describe(TICKETS_WRITE, "Assign a ticket", body={"type": "object", ...},
                 audit="ticket.assign", subject="ticket")
       @api
       async def assign(request): ...

2. the catalogue of the routes written before this module
   (:mod:`gateway.web.api_catalog`), keyed by method and path;
3. otherwise a default by path: ``/api/admin/…`` and ``/admin/…`` need an admin
   (``system:admin``), other ``/api`` reads ``tickets:read`` and writes
   ``tickets:write``, every other page ``console``.

Public routes (the widget, health checks, the login page, static files) are listed
in :data:`PUBLIC_PATHS`; a channel adds one by decorating its handler with
:func:`public` (e.g. a signed webhook that checks its own signature).  Everything
else needs a session or an API token: a route nobody classified is protected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.audit import Actor
from gateway.auth.roles import (
    AUTHENTICATED,
    CONSOLE,
    ROLES,
    SYSTEM_ADMIN,
    TICKETS_READ,
    TICKETS_WRITE,
    grants,
)
from gateway.auth.tokens import TokenView
from gateway.views import UserView
from gateway.web.api_catalog import CATALOG
from gateway.web.route_docs import DOC_ATTR, PUBLIC_ATTR, Param, RouteDoc, describe, public

# What route modules import from here:
__all__ = ["PRINCIPAL", "Param", "Principal", "RouteDoc", "describe", "public"]

LOGIN_PATH = "/console/login"
STATIC_PREFIX = "/console/static/"
PUBLIC_PATHS = frozenset(
    {
        "/",  # the web-chat demo page
        "/widget.js",
        "/widget.css",
        "/chat/ws",  # visitors: the web-chat socket has its own signed visitor tokens
        "/healthz",
        "/readyz",
        "/metrics",  # Prometheus: counts only, no personal data
        LOGIN_PATH,
    }
)
PUBLIC_PREFIXES = (STATIC_PREFIX,)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling and what they may do: a session's user (their role's
    permissions) or an API token (its scopes within its owner's role)."""

    user: UserView
    permissions: frozenset[str]
    token: TokenView | None = None

    @property
    def via_token(self) -> bool:
        return self.token is not None

    def actor(self, remote: str = "") -> Actor:
        return Actor.user(self.user, remote=remote, token_id=self.token.id if self.token else None)


PRINCIPAL = web.RequestKey("principal", Principal)  # set by the security middleware


def path_is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def route_is_public(request: web.Request) -> bool:
    if path_is_public(request.path):
        return True
    route = request.match_info.route
    return bool(getattr(route.handler, PUBLIC_ATTR, False))


def route_key(request: web.Request) -> tuple[str, str] | None:
    """``(method, canonical path)`` of the matched route, None when none matched."""
    if request.match_info.http_exception:
        return None
    resource = request.match_info.route.resource
    if resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return method, resource.canonical


def default_permission(method: str, path: str) -> str:
    if path.startswith(("/api/admin/", "/admin/")) or path in ("/api/admin", "/admin"):
        return SYSTEM_ADMIN
    if path == "/api" or path.startswith("/api/"):
        return TICKETS_READ if method in SAFE_METHODS else TICKETS_WRITE
    return CONSOLE


def doc_for(method: str, canonical: str, handler: Any) -> RouteDoc | None:
    found = getattr(handler, DOC_ATTR, None)
    if isinstance(found, RouteDoc):
        return found
    return CATALOG.get((method, canonical))


def required_permission(method: str, canonical: str, handler: Any) -> str:
    doc = doc_for(method, canonical, handler)
    return doc.permission if doc is not None else default_permission(method, canonical)


def permission_of(request: web.Request) -> tuple[str, RouteDoc | None]:
    """What the request's route needs (``authenticated`` when no route matched: the
    404 is for those who are logged in)."""
    key = route_key(request)
    if key is None:
        return AUTHENTICATED, None
    handler = request.match_info.route.handler
    doc = doc_for(key[0], key[1], handler)
    return (doc.permission if doc else default_permission(*key)), doc


def roles_with(permission: str) -> list[str]:
    """The roles that have ``permission``, lowest first."""
    return [r for r in ROLES if permission in grants(r)]
