"""What the inspection API shows: for an inbound mail its class and reason, the
clean text given to the bot, the quoted part and signature, its conversation and
ticket, its attachments; for an outbound mail its Message-ID and each
recipient's delivery state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.db.tables import Message, Ticket
from gateway.db.tables_mail import MailAttachment, MailInbound, MailOutbound, MailRecipient, MailSuggestion
from gateway.errors import NotFoundError
from gateway.mail import blobs
from gateway.mail.service import MailService


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def inbound_list(
    mail: MailService, *, message_id: str | None = None, conversation_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    stmt = select(MailInbound)
    if message_id:
        stmt = stmt.where(MailInbound.message_id == message_id.strip().strip("<>"))
    if conversation_id is not None:
        stmt = stmt.where(MailInbound.conversation_id == conversation_id)
    async with mail.store.read() as tx:
        rows = (await tx.session.execute(stmt.order_by(MailInbound.id.desc()).limit(limit))).scalars()
        return [_summary(r) for r in rows]


def _summary(row: MailInbound) -> dict[str, Any]:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "source": row.source,
        "from": row.from_address,
        "from_name": row.from_name,
        "subject": row.subject,
        "status": row.status,
        "class": row.mail_class,
        "class_reason": row.class_reason,
        "quarantine_reason": row.quarantine_reason or None,
        "conversation_id": row.conversation_id,
        "thread_rule": row.thread_rule,
        "received_at": _iso(row.received_at),
        "size": row.size,
    }


async def inbound_detail(mail: MailService, inbound_id: int) -> dict[str, Any]:
    async with mail.store.read() as tx:
        session = tx.session
        row = await session.get(MailInbound, inbound_id)
        if row is None:
            raise NotFoundError(f"no inbound mail {inbound_id}")
        files = (
            await session.execute(select(MailAttachment).where(MailAttachment.inbound_id == row.id))
        ).scalars()
        ticket = None
        if row.conversation_id is not None:
            stmt = (
                select(Ticket).where(Ticket.conversation_id == row.conversation_id).order_by(Ticket.id.desc())
            )
            ticket = (await session.execute(stmt.limit(1))).scalar_one_or_none()
        suggestions: Any = (
            (
                await session.execute(
                    select(MailSuggestion).where(MailSuggestion.conversation_id == row.conversation_id)
                )
            ).scalars()
            if row.conversation_id is not None
            else []
        )
        return {
            **_summary(row),
            "envelope_from": row.envelope_from,
            "envelope_to": list(row.envelope_to or []),
            "clean_text": row.clean_text,
            "quoted": row.quoted,
            "signature": row.signature,
            "stored_message_id": row.stored_message_id,
            "ticket": {"id": ticket.id, "number": ticket.number, "status": ticket.status} if ticket else None,
            "attachments": [
                {
                    "id": f.id,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                    "inline": f.inline,
                    "content_id": f.content_id,
                    "url": f"/api/mail/attachments/{f.id}",
                }
                for f in files
            ],
            "suggestions": [suggestion_dict(s) for s in suggestions],
            "details": dict(row.details or {}),
            "raw_url": f"/api/mail/inbound/{row.id}/raw",
        }


async def raw_of(mail: MailService, inbound_id: int) -> bytes:
    async with mail.store.read() as tx:
        row = await tx.session.get(MailInbound, inbound_id)
        if row is None:
            raise NotFoundError(f"no inbound mail {inbound_id}")
        return await blobs.get(tx.session, row.raw_sha256) or b""


async def attachment(mail: MailService, attachment_id: int) -> tuple[str, bytes]:
    async with mail.store.read() as tx:
        row = await tx.session.get(MailAttachment, attachment_id)
        if row is None:
            raise NotFoundError(f"no attachment {attachment_id}")
        return row.filename, await blobs.get(tx.session, row.blob_sha256) or b""


async def outbound_list(mail: MailService, conversation_id: int) -> list[dict[str, Any]]:
    async with mail.store.read() as tx:
        stmt = (
            select(MailOutbound)
            .where(MailOutbound.conversation_id == conversation_id)
            .order_by(MailOutbound.id)
        )
        return [await _outbound(tx.session, o) for o in (await tx.session.execute(stmt)).scalars()]


async def outbound_detail(mail: MailService, message_id: int) -> dict[str, Any]:
    async with mail.store.read() as tx:
        stmt = select(MailOutbound).where(MailOutbound.message_id == message_id)
        out = (await tx.session.execute(stmt)).scalar_one_or_none()
        if out is None:
            raise NotFoundError(f"no outbound mail for message {message_id}")
        return await _outbound(tx.session, out)


async def _outbound(session: Any, out: MailOutbound) -> dict[str, Any]:
    recipients = (
        await session.execute(
            select(MailRecipient).where(MailRecipient.outbound_id == out.id).order_by(MailRecipient.id)
        )
    ).scalars()
    msg = await session.get(Message, out.message_id)
    return {
        "message_id": out.message_id,
        "rfc_message_id": out.rfc_message_id,
        "conversation_id": out.conversation_id,
        "subject": out.subject,
        "automatic": out.automatic,
        "delivery": msg.delivery if msg is not None else None,
        "delivery_detail": (msg.meta or {}).get("delivery_detail") if msg is not None else None,
        "created_at": _iso(out.created_at),
        "sent_at": _iso(out.sent_at),
        "recipients": [
            {
                "address": r.address,
                "kind": r.kind,
                "state": r.state,
                "detail": r.detail,
                "updated_at": _iso(r.updated_at),
            }
            for r in recipients
        ],
    }


def suggestion_dict(s: MailSuggestion) -> dict[str, Any]:
    return {
        "id": s.id,
        "conversation_id": s.conversation_id,
        "candidate_id": s.candidate_id,
        "reason": s.reason,
        "status": s.status,
        "created_at": _iso(s.created_at),
        "decided_at": _iso(s.decided_at),
    }
