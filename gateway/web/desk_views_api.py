"""What the console's ticket tools need besides :mod:`gateway.web.tickets_api`: the
colleagues a ticket can be given to, with their presence and load.

``GET /api/desk/operators`` -> ``{"operators": [{id, name, role, present, capacity,
holding}]}``: every active account that works tickets (operators, supervisors,
admins), present ones first.  Readable by any operator (``tickets:read``): assigning
to a colleague needs to know who is there.  Registered by
:func:`gateway.web.tickets_api.setup`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.auth.roles import TICKETS_READ
from gateway.db.tables import Ticket, User
from gateway.db.tables_tickets import OperatorPresence
from gateway.tickets.queues import HOLDING
from gateway.web.helpers import api
from gateway.web.keys import DESK, JINJA
from gateway.web.route_docs import describe
from gateway.web.security import USER, json_response

WORKERS = ("operator", "supervisor", "admin")


async def operator_list(request: web.Request) -> list[dict[str, Any]]:
    store = request.app[DESK].desk.store
    async with store.read() as tx:
        default = tx.settings.tickets.default_capacity
        rows = (
            await tx.session.execute(
                select(User, OperatorPresence)
                .outerjoin(OperatorPresence, OperatorPresence.user_id == User.id)
                .where(User.active.is_(True), User.role.in_(WORKERS))
                .order_by(User.id)
            )
        ).all()
        counts = dict(
            (
                await tx.session.execute(
                    select(Ticket.assignee_id, func.count(Ticket.id))
                    .where(Ticket.assignee_id.is_not(None), Ticket.status.in_(HOLDING))
                    .group_by(Ticket.assignee_id)
                )
            ).all()
        )
    found = [
        {
            "id": user.id,
            "name": user.display_name or user.name,
            "role": user.role,
            "present": bool(presence and presence.present),
            "capacity": presence.capacity if presence and presence.capacity is not None else default,
            "holding": int(counts.get(user.id, 0)),
        }
        for user, presence in rows
    ]
    found.sort(key=lambda o: (not o["present"], str(o["name"]).lower()))
    return found


@describe(
    TICKETS_READ,
    "Colleagues a ticket can be given to, with presence and load",
    tags=("desk",),
    responses={200: ("operators", {"type": "object"})},
)
@api
async def operators(request: web.Request) -> web.StreamResponse:
    me = request[USER]
    return json_response({"operators": await operator_list(request), "me": me.id})


async def _tell_the_console(app: web.Application) -> None:
    """The console page shows the desk's views and tools only when this API is here
    (``desk_api`` in its templates): a console without the desk asks nothing of it."""
    if JINJA in app:
        app[JINJA].globals["desk_api"] = True


def setup(app: web.Application) -> None:
    app.router.add_get("/api/desk/operators", operators, name="desk_operators")
    app.on_startup.append(_tell_the_console)
