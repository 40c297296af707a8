"""The email room's share of a customer's data (:mod:`gateway.customers.parts`).

Erase removes the raw mail and its attachments (the rows and, once nothing refers
to them, the stored bytes), the conversations' email identities (thread tokens,
participants), the outbound mail records with their recipients, the merge
suggestions, and the loop-guard counts of the customer's addresses.  The
suppression list is kept: an address that bounced stays one we never mail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables import IdentityRow
from gateway.db.tables_mail import (
    MailAttachment,
    MailAutoSend,
    MailBlob,
    MailInbound,
    MailOutbound,
    MailParticipant,
    MailRecipient,
    MailSuggestion,
    MailThread,
)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class MailPart(CustomerDataPart):
    name = "mail"
    tables = frozenset({
        "mail_inbound", "mail_attachments", "mail_threads", "mail_participants", "mail_outbound",
        "mail_recipients", "mail_suggestions", "mail_blobs",
    })

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        convs = list(scope.conversation_ids)
        addresses = [
            a.lower() for a in (await session.execute(
                select(IdentityRow.address).where(IdentityRow.id.in_(scope.identity_ids))
            )).scalars()
        ] if scope.identity_ids else []
        inbound_filter = or_(
            MailInbound.conversation_id.in_(convs),
            MailInbound.from_address.in_(addresses),
        )
        inbound_ids = list((await session.execute(select(MailInbound.id).where(inbound_filter))).scalars())
        out_ids = list((await session.execute(
            select(MailOutbound.id).where(MailOutbound.conversation_id.in_(convs))
        )).scalars())
        counts = {
            "mail_attachments": _count(await session.execute(
                delete(MailAttachment).where(MailAttachment.inbound_id.in_(inbound_ids)))),
            "mail_inbound": _count(await session.execute(
                delete(MailInbound).where(MailInbound.id.in_(inbound_ids)))),
            "mail_recipients": _count(await session.execute(
                delete(MailRecipient).where(MailRecipient.outbound_id.in_(out_ids)))),
            "mail_outbound": _count(await session.execute(
                delete(MailOutbound).where(MailOutbound.id.in_(out_ids)))),
            "mail_participants": _count(await session.execute(
                delete(MailParticipant).where(MailParticipant.conversation_id.in_(convs)))),
            "mail_threads": _count(await session.execute(
                delete(MailThread).where(MailThread.conversation_id.in_(convs)))),
            "mail_suggestions": _count(await session.execute(delete(MailSuggestion).where(
                or_(MailSuggestion.conversation_id.in_(convs), MailSuggestion.candidate_id.in_(convs))))),
        }
        if addresses:
            await session.execute(delete(MailAutoSend).where(MailAutoSend.address.in_(addresses)))
        used = select(MailInbound.raw_sha256).union(select(MailAttachment.blob_sha256))
        counts["mail_blobs"] = _count(await session.execute(
            delete(MailBlob).where(MailBlob.sha256.not_in(used))))
        return counts


PART = MailPart()
