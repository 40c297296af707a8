"""The merge records' share of a customer's data (:mod:`gateway.customers.parts`):
erase keeps the pointer from a merged ticket to where it went (the figures need it)
and removes the free-text reason written on it."""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables_merge import TicketMerge


class MergesPart(CustomerDataPart):
    name = "ticket_merges"
    tables = frozenset({"ticket_merges"})

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        conversations = list(scope.conversation_ids)
        result = await session.execute(
            update(TicketMerge)
            .where(or_(TicketMerge.source_conversation_id.in_(conversations),
                       TicketMerge.target_conversation_id.in_(conversations)))
            .values(reason="")
        )
        return {"ticket_merges": int(getattr(result, "rowcount", 0) or 0)}


PART = MergesPart()
