"""Canned responses: reply templates with variables, filled for one ticket.

Variables: ``{customer_name}``, ``{ticket_number}``, ``{subject}``, ``{operator_name}``,
``{queue}``.  An unknown variable is refused when the template is saved, so a reply never
goes out with a hole in it; ``{{`` and ``}}`` write literal braces.
"""

from __future__ import annotations

import string
from typing import Any

from sqlalchemy import select

from gateway.db.tables_tickets import CannedResponse
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.store import SqlStore
from gateway.views import UserView

VARIABLES = ("customer_name", "ticket_number", "subject", "operator_name", "queue")
MAX_BODY = 10_000


def check_template(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInputError("the response is empty")
    if len(body) > MAX_BODY:
        raise InvalidInputError(f"the response is longer than {MAX_BODY} characters")
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(body) if f is not None]
    except ValueError as exc:
        raise InvalidInputError(f"the template is malformed: {exc}") from None
    unknown = sorted({f for f in fields if f not in VARIABLES})
    if unknown:
        raise InvalidInputError(
            f"unknown variables {', '.join('{' + u + '}' for u in unknown)}; "
            f"known: {', '.join('{' + v + '}' for v in VARIABLES)}"
        )
    return body


def fill(body: str, values: dict[str, str]) -> str:
    return check_template(body).format_map({v: values.get(v, "") for v in VARIABLES})


def canned_dict(row: CannedResponse) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "lang": row.lang,
        "updated_at": row.updated_at.isoformat(),
    }


class CannedService:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def listing(self, query: str = "") -> list[dict[str, Any]]:
        async with self.store.read() as tx:
            stmt = select(CannedResponse).order_by(CannedResponse.title)
            if query:
                like = f"%{query.lower()}%"
                stmt = stmt.where(CannedResponse.title.ilike(like) | CannedResponse.body.ilike(like))
            return [canned_dict(r) for r in (await tx.session.execute(stmt)).scalars()]

    async def save(
        self, user: UserView, title: str, body: str, lang: str = "", canned_id: int | None = None
    ) -> dict[str, Any]:
        title = " ".join((title or "").split())
        if not title or len(title) > 200:
            raise InvalidInputError("a title of 1 to 200 characters is needed")
        body = check_template(body)
        async with self.store.tx() as tx:
            clash = await tx.session.scalar(select(CannedResponse.id).where(CannedResponse.title == title))
            if clash is not None and clash != canned_id:
                raise ConflictError(f"a canned response is already called {title!r}")
            if canned_id is None:
                row = CannedResponse(
                    title=title,
                    body=body,
                    lang=lang[:8],
                    created_by=user.id,
                    created_at=tx.now(),
                    updated_at=tx.now(),
                )
                tx.session.add(row)
            else:
                found = await tx.session.get(CannedResponse, canned_id)
                if found is None:
                    raise NotFoundError(f"no canned response {canned_id}")
                row = found
                row.title, row.body, row.lang, row.updated_at = title, body, lang[:8], tx.now()
            await tx.session.flush()
            return canned_dict(row)

    async def delete(self, canned_id: int) -> None:
        async with self.store.tx() as tx:
            row = await tx.session.get(CannedResponse, canned_id)
            if row is None:
                raise NotFoundError(f"no canned response {canned_id}")
            await tx.session.delete(row)

    async def render(self, canned_id: int, ticket_id: int, user: UserView) -> str:
        """The response filled for this ticket (the operator sends it as a reply)."""
        async with self.store.read() as tx:
            row = await tx.session.get(CannedResponse, canned_id)
            if row is None:
                raise NotFoundError(f"no canned response {canned_id}")
            view = await tx.ticket_view(await tx.ticket(ticket_id))
            return fill(
                row.body,
                {
                    "customer_name": view.customer_name,
                    "ticket_number": view.number,
                    "subject": view.subject,
                    "operator_name": user.display_name or user.name,
                    "queue": view.queue,
                },
            )
