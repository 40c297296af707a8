"""The ticket desk's role check, by role name: every ``/api/desk`` route of the
ticket tools needs an operator; managing queues, members, other operators' capacity,
canned responses and customer tiers needs a supervisor (or an admin).

It comes on top of the route's permission (:func:`gateway.web.route_docs.describe`),
which the security middleware checks first.  An access-control module can replace
:data:`ROLE_RANK` or wrap :func:`require_role`.
"""

from __future__ import annotations

from aiohttp import web

from gateway.errors import ForbiddenError
from gateway.views import UserView
from gateway.web.security import USER

ROLE_RANK = {"operator": 1, "supervisor": 2, "admin": 3}


def require_role(request: web.Request, role: str) -> UserView:
    """The request's user if their role is ``role`` or above, else 403."""
    user = request[USER]
    if ROLE_RANK.get(user.role, 0) < ROLE_RANK[role]:
        raise ForbiddenError(f"this needs the {role} role")
    return user
