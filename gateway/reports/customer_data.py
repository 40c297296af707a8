"""The satisfaction surveys' share of a customer's data (:mod:`gateway.customers.parts`).

Erase keeps the rating (the figures stay, anonymous, like the ticket statistics) and
removes what the customer wrote: the comment.  The link's token is only a hash and
expires; it goes too, so an erased customer's old link opens nothing.  Export needs
nothing more: the surveys are linked to the customer's tickets by a foreign key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, literal, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables_csat import CsatSurvey


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class CsatPart(CustomerDataPart):
    name = "csat"
    tables = frozenset({"csat_surveys"})

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        if not scope.conversation_ids:
            return {"csat_surveys": 0}
        stmt = (
            update(CsatSurvey)
            .where(CsatSurvey.conversation_id.in_(list(scope.conversation_ids)))
            .values(comment="", token_hash=literal("erased-") + cast(CsatSurvey.id, String))
        )
        return {"csat_surveys": _count(await session.execute(stmt))}


PART = CsatPart()
