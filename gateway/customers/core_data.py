"""The core's share of a customer's data: customers, identities, conversations,
messages, tickets, and article drafts made from the customer's tickets.

Erase keeps what the statistics need and nothing that names the person:

- messages are deleted (their attachments' metadata with them);
- identities are deleted; the conversations (which tickets hang on) point to one
  placeholder identity ``erased/erased-<customer id>`` and their thread keys (a
  visitor id, an email thread) are replaced by ``erased-<conversation id>``;
- the customer keeps its id and creation date, without a name;
- tickets keep their number, status, queue, priority, reason and timestamps; the
  subject (the customer's words) is emptied;
- drafts not yet reviewed are deleted; reviewed ones lose their link to the ticket;
- queued jobs of those conversations are dropped (they would act on deleted messages).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables import ArticleDraft, Conversation, Customer, IdentityRow, Job, Message, Ticket

ERASED_CHANNEL = "erased"


def placeholder_address(customer_id: int) -> str:
    return f"erased-{customer_id}"


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class CorePart(CustomerDataPart):
    name = "core"
    tables = frozenset({"customers", "identities", "conversations", "messages", "tickets", "article_drafts"})

    async def export(self, session: AsyncSession, scope: CustomerScope) -> dict[str, Any]:
        attachments: list[dict[str, Any]] = []
        if scope.conversation_ids:
            stmt = select(Message.id, Message.conversation_id, Message.meta).where(
                Message.conversation_id.in_(scope.conversation_ids)
            ).order_by(Message.id)
            for message_id, conversation_id, meta in (await session.execute(stmt)).all():
                for item in (meta or {}).get("attachments", []) or []:
                    if isinstance(item, dict):
                        attachments.append({**item, "message_id": message_id,
                                            "conversation_id": conversation_id})
        return {"attachments": attachments}

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        counts: dict[str, int] = {}
        convs = scope.conversation_ids
        if convs:
            counts["messages"] = _count(await session.execute(
                delete(Message).where(Message.conversation_id.in_(convs))))
            counts["jobs"] = _count(await session.execute(
                delete(Job).where(Job.conversation_id.in_(convs), Job.status != "running")))
            placeholder = await self._placeholder(session, scope.customer_id)
            for conv in (await session.execute(
                    select(Conversation).where(Conversation.id.in_(convs)))).scalars():
                conv.identity_id = placeholder.id
                conv.thread_key = f"erased-{conv.id}"
            counts["conversations"] = len(convs)
        if scope.ticket_ids:
            tickets = scope.ticket_ids
            counts["tickets"] = _count(await session.execute(
                update(Ticket).where(Ticket.id.in_(tickets)).values(subject="")))
            unreviewed = delete(ArticleDraft).where(ArticleDraft.ticket_id.in_(tickets),
                                                    ArticleDraft.status == "draft")
            counts["article_drafts"] = _count(await session.execute(unreviewed))
            await session.execute(update(ArticleDraft).where(ArticleDraft.ticket_id.in_(tickets)).values(
                ticket_id=None, conversation_id=None))
        await session.flush()
        counts["identities"] = _count(await session.execute(
            delete(IdentityRow).where(IdentityRow.customer_id == scope.customer_id,
                                      IdentityRow.channel != ERASED_CHANNEL)))
        await session.execute(
            update(Customer).where(Customer.id == scope.customer_id).values(display_name=""))
        return counts

    @staticmethod
    async def _placeholder(session: AsyncSession, customer_id: int) -> IdentityRow:
        address = placeholder_address(customer_id)
        row = await session.scalar(select(IdentityRow).where(
            IdentityRow.channel == ERASED_CHANNEL, IdentityRow.address == address))
        if row is None:
            row = IdentityRow(customer_id=customer_id, channel=ERASED_CHANNEL, address=address,
                              display_name="")
            session.add(row)
            await session.flush()
        return row

    async def merge(self, session: AsyncSession, source: CustomerScope, target_id: int) -> None:
        await session.execute(update(IdentityRow).where(IdentityRow.customer_id == source.customer_id).values(
            customer_id=target_id))
        await session.execute(update(Conversation).where(
            Conversation.customer_id == source.customer_id).values(customer_id=target_id))
        source_row = await session.get(Customer, source.customer_id)
        target_row = await session.get(Customer, target_id)
        if source_row is not None and target_row is not None:
            if not target_row.display_name and source_row.display_name:
                target_row.display_name = source_row.display_name
            if not target_row.lang and source_row.lang:
                target_row.lang = source_row.lang
            target_row.created_at = min(target_row.created_at, source_row.created_at)
        await session.flush()
        await session.execute(delete(Customer).where(Customer.id == source.customer_id))


async def identity_count(session: AsyncSession, customer_id: int) -> int:
    stmt = select(func.count()).select_from(IdentityRow).where(IdentityRow.customer_id == customer_id)
    return int(await session.scalar(stmt) or 0)


PART = CorePart()
