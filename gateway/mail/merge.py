"""Merge suggestions ("possibly the same as G-…"): an operator accepts (the new
conversation's messages move into the suggested one, its sender becomes a
participant there, the new conversation is resolved) or dismisses.  Nothing is
ever merged without an operator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from gateway.db.tables import Message, Ticket
from gateway.db.tables_mail import MailInbound, MailParticipant, MailSuggestion
from gateway.errors import ConflictError, NotFoundError
from gateway.mail.inspect import suggestion_dict
from gateway.mail.service import MailService
from gateway.models import ConversationState, TicketStatus


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


async def accept(mail: MailService, suggestion_id: int, user_id: int | None) -> dict[str, Any]:
    """Merge the suggestion's conversation into its candidate, under both locks."""
    async with mail.store.tx() as tx:
        session = tx.session
        s = await _open(session, suggestion_id)
        first, second = sorted((s.conversation_id, s.candidate_id))
        locked = {first: await tx.lock_conversation(first), second: await tx.lock_conversation(second)}
        source, target = locked[s.conversation_id], locked[s.candidate_id]
        await session.execute(
            update(Message).where(Message.conversation_id == source.id).values(conversation_id=target.id)
        )
        await session.execute(
            update(MailInbound)
            .where(MailInbound.conversation_id == source.id)
            .values(conversation_id=target.id)
        )
        senders = (
            await session.execute(
                select(MailParticipant.address).where(MailParticipant.conversation_id == source.id)
            )
        ).scalars()
        known = set(
            (
                await session.execute(
                    select(MailParticipant.address).where(MailParticipant.conversation_id == target.id)
                )
            ).scalars()
        )
        for address in set(senders) - known:
            session.add(
                MailParticipant(conversation_id=target.id, address=address, role="cc", created_at=tx.now())
            )
        for ticket in (
            await session.execute(
                select(Ticket).where(
                    Ticket.conversation_id == source.id, Ticket.status != TicketStatus.RESOLVED.value
                )
            )
        ).scalars():
            ticket.status, ticket.resolved_at, ticket.updated_at = (
                TicketStatus.RESOLVED.value,
                tx.now(),
                tx.now(),
            )
        tx.set_state(source, ConversationState.RESOLVED)
        s.status, s.decided_by, s.decided_at = "accepted", user_id, tx.now()
        await tx.add_event(target, f"Conversation {source.id} merged into this one by an operator.")
        tx.emit("conversation.merged", {"from": source.id, "into": target.id})
        return suggestion_dict(s)


async def _open(session: Any, suggestion_id: int) -> MailSuggestion:
    s = await session.get(MailSuggestion, suggestion_id)
    if s is None:
        raise NotFoundError(f"no merge suggestion {suggestion_id}")
    if s.status != "open":
        raise ConflictError(f"suggestion {suggestion_id} was already {s.status}")
    return s
