"""Free tags on tickets (issue 9): normalised so that "Invoice  Export", "invoice-export"
and "INVOICE_export" are one tag, suggested from the tags already in use, and a
filter of the desk's lists (``GET /api/desk/tickets?tag=...``).

Normal form: Unicode NFKC, lower case, every run of characters other than letters
and digits turned into one ``-``, none at the ends, at most :data:`MAX_TAG`
characters.  A tag that is empty once normalised is refused.  Adding or removing a
tag is recorded on the ticket (a ``tags`` change: history and the audit listeners).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select

from gateway.db.tables_desk import TicketTag
from gateway.errors import InvalidInputError
from gateway.flow.store import SqlStore
from gateway.tickets import history, lifecycle
from gateway.tickets.desk import name_of
from gateway.views import UserView

MAX_TAG = 40
MAX_TAGS = 20  # on one ticket
_SEPARATORS = re.compile(r"[^\w]+|_+", re.UNICODE)


def normalise(raw: str) -> str:
    """The tag's normal form ("" when nothing is left)."""
    text = unicodedata.normalize("NFKC", raw or "").casefold()
    text = _SEPARATORS.sub("-", text).strip("-")
    return text[:MAX_TAG].strip("-")


def normalise_all(raws: Iterable[str]) -> list[str]:
    found: list[str] = []
    for raw in raws:
        if not isinstance(raw, str):
            raise InvalidInputError("tags are strings")
        tag = normalise(raw)
        if not tag:
            raise InvalidInputError(f"{raw!r} is not a tag: use letters or digits")
        if tag not in found:
            found.append(tag)
    return found


class TagService:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def change(
        self, ticket_id: int, user: UserView, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> list[str]:
        """Add and remove tags; returns the ticket's tags as they now are."""
        adding, removing = normalise_all(add), normalise_all(remove)
        if not adding and not removing:
            raise InvalidInputError('give tags to "add" or "remove"')
        async with self.store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            before = await _tags(tx.session, ticket.id)
            after = [t for t in before if t not in removing] + [
                t for t in adding if t not in before and t not in removing
            ]
            if len(after) > MAX_TAGS:
                raise InvalidInputError(f"a ticket has at most {MAX_TAGS} tags")
            if after == before:
                return before
            gone = [t for t in before if t not in after]
            if gone:
                await tx.session.execute(
                    delete(TicketTag).where(TicketTag.ticket_id == ticket.id, TicketTag.tag.in_(gone))
                )
            now = tx.now()
            for tag in after:
                if tag not in before:
                    tx.session.add(TicketTag(ticket_id=ticket.id, tag=tag, actor_id=user.id, created_at=now))
            await tx.session.flush()
            await history.record(tx, ticket, "tags", {"tags": before}, {"tags": after}, actor_id=user.id)
            new = [t for t in after if t not in before]
            words = ", ".join([f"+{t}" for t in new] + [f"-{t}" for t in gone])
            await tx.add_event(conv, f"{name_of(user)}: tags {words}.")
            ticket.updated_at = now
            await tx.emit_ticket("ticket.updated", ticket)
            return after

    async def of_ticket(self, ticket_id: int) -> list[str]:
        async with self.store.read() as tx:
            await tx.ticket(ticket_id)
            return await _tags(tx.session, ticket_id)

    async def suggest(self, prefix: str = "", limit: int = 20) -> list[dict[str, Any]]:
        """Tags in use starting with ``prefix`` (normalised), most used first."""
        start = normalise(prefix)
        stmt = select(TicketTag.tag, func.count(TicketTag.id).label("n")).group_by(TicketTag.tag)
        if start:
            escaped = start.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(TicketTag.tag.like(f"{escaped}%", escape="\\"))
        stmt = stmt.order_by(func.count(TicketTag.id).desc(), TicketTag.tag).limit(max(1, min(limit, 100)))
        async with self.store.read() as tx:
            return [{"tag": tag, "tickets": int(n)} for tag, n in (await tx.session.execute(stmt)).all()]


async def _tags(session: Any, ticket_id: int) -> list[str]:
    stmt = select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id).order_by(TicketTag.id)
    return list((await session.execute(stmt)).scalars())


async def tags_by_ticket(session: Any, ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of several tickets in one query (the desk's lists)."""
    if not ticket_ids:
        return {}
    stmt = (
        select(TicketTag.ticket_id, TicketTag.tag)
        .where(TicketTag.ticket_id.in_(list(ticket_ids)))
        .order_by(TicketTag.ticket_id, TicketTag.id)
    )
    found: dict[int, list[str]] = {}
    for ticket_id, tag in (await session.execute(stmt)).all():
        found.setdefault(int(ticket_id), []).append(str(tag))
    return found
