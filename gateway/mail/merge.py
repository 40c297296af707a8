"""Merge suggestions ("possibly the same as G-…"): an operator accepts or dismisses.
Nothing is ever merged without an operator.

Accepting is the desk's ticket merge (:meth:`gateway.tickets.merge.TicketMerger.accept_suggestion`),
the same whichever route it came by (``POST /api/mail/suggestions/{id}/accept`` or
``POST /api/desk/merge-suggestions/{id}/accept``): the new conversation's history moves
into the suggested one, its sender becomes a participant there, its ticket is closed
with a pointer, both tickets record the merge with the suggestion's id.  The operator's
acceptance is an explicit decision about that very mail, so it is allowed even when
the sender's address is another customer record; merging two arbitrary tickets of
different customers still needs a supervisor's force (the desk's merge route)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.db.tables_mail import MailSuggestion
from gateway.errors import ConflictError, NotFoundError
from gateway.mail.inspect import suggestion_dict
from gateway.mail.service import MailService
from gateway.tickets.merge import TicketMerger
from gateway.views import UserView


async def list_open(mail: MailService, limit: int = 200) -> list[dict[str, Any]]:
    async with mail.store.read() as tx:
        stmt = (
            select(MailSuggestion).where(MailSuggestion.status == "open").order_by(MailSuggestion.id.desc())
        )
        return [suggestion_dict(s) for s in (await tx.session.execute(stmt.limit(limit))).scalars()]


async def dismiss(mail: MailService, suggestion_id: int, user_id: int | None) -> dict[str, Any]:
    async with mail.store.tx() as tx:
        s = await _open(tx.session, suggestion_id)
        s.status, s.decided_by, s.decided_at = "dismissed", user_id, tx.now()
        return suggestion_dict(s)


async def accept(
    mail: MailService,
    suggestion_id: int,
    user: UserView,
    *,
    merger: TicketMerger | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """Accept by the desk's merge; returns ``{"suggestion": ..., "merge": ...}``."""
    result = await (merger or TicketMerger(mail.store)).accept_suggestion(suggestion_id, user, reason=reason)
    async with mail.store.read() as tx:
        s = await tx.session.get(MailSuggestion, suggestion_id)
        if s is None:  # deleted right after (an erase): the merge stands
            raise NotFoundError(f"no merge suggestion {suggestion_id}")
        return {"suggestion": suggestion_dict(s), "merge": result.to_dict()}


async def _open(session: Any, suggestion_id: int) -> MailSuggestion:
    s = await session.get(MailSuggestion, suggestion_id)
    if s is None:
        raise NotFoundError(f"no merge suggestion {suggestion_id}")
    if s.status != "open":
        raise ConflictError(f"suggestion {suggestion_id} was already {s.status}")
    return s
