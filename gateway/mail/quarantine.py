"""The quarantine: mail that could not be processed (unparseable, hostile,
spam or malformed, a bounce about nothing we sent), kept with its reason for an
admin to list, inspect, release (process it again, as a customer's mail with no
automatic reply) or delete (the row and its raw bytes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select

from gateway.db.tables_mail import MailAttachment, MailBlob, MailInbound
from gateway.errors import ConflictError, NotFoundError
from gateway.flow.tx import Tx
from gateway.mail import blobs
from gateway.mail.contracts import MailFacts
from gateway.mail.ingest import INGEST_JOB
from gateway.mail.service import MailService

QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    id: int
    received_at: datetime
    source: str
    from_address: str
    subject: str
    message_id: str | None
    size: int
    mail_class: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data


def _item(row: MailInbound) -> QuarantineItem:
    return QuarantineItem(
        row.id, row.received_at, row.source, row.from_address, row.subject, row.message_id,
        row.size, row.mail_class, row.quarantine_reason,
    )


async def put(tx: Tx, inbound_id: int, reason: str, facts: MailFacts | None = None) -> None:
    """Quarantine the mail (in the caller's transaction)."""
    row = await tx.session.get(MailInbound, inbound_id)
    if row is None:
        return
    row.status = QUARANTINED
    row.quarantine_reason = reason[:4000]
    row.processed_at = tx.now()
    if facts is not None:
        row.mail_class = facts.mail_class
        row.class_reason = facts.class_reason[:4000]
    tx.emit("mail.quarantined", {"inbound_id": inbound_id, "reason": row.quarantine_reason})


async def quarantine(mail: MailService, inbound_id: int, reason: str, facts: MailFacts | None = None) -> None:
    async with mail.store.tx() as tx:
        await put(tx, inbound_id, reason, facts)


async def count(mail: MailService) -> int:
    async with mail.store.read() as tx:
        stmt = select(func.count()).select_from(MailInbound).where(MailInbound.status == QUARANTINED)
        return int(await tx.session.scalar(stmt) or 0)


async def list_items(mail: MailService, limit: int = 200) -> list[QuarantineItem]:
    async with mail.store.read() as tx:
        stmt = (
            select(MailInbound)
            .where(MailInbound.status == QUARANTINED)
            .order_by(MailInbound.id.desc())
            .limit(limit)
        )
        return [_item(r) for r in (await tx.session.execute(stmt)).scalars()]


async def show(mail: MailService, inbound_id: int) -> tuple[QuarantineItem, bytes]:
    """The item and its raw bytes (for an admin to inspect; never rendered as HTML)."""
    async with mail.store.read() as tx:
        row = await tx.session.get(MailInbound, inbound_id)
        if row is None or row.status != QUARANTINED:
            raise NotFoundError(f"no quarantined mail {inbound_id}")
        raw = await blobs.get(tx.session, row.raw_sha256) or b""
        return _item(row), raw


async def release(mail: MailService, inbound_id: int) -> None:
    """Process it again, as a customer's mail that gets no automatic reply."""
    async with mail.store.tx() as tx:
        row = await tx.session.get(MailInbound, inbound_id)
        if row is None:
            raise NotFoundError(f"no quarantined mail {inbound_id}")
        if row.status != QUARANTINED:
            raise ConflictError(f"mail {inbound_id} is not in quarantine (it is {row.status})")
        row.status = "received"
        row.details = {**(row.details or {}), "released": True, "released_from": row.quarantine_reason}
        tx.enqueue(INGEST_JOB, {"inbound_id": row.id, "release": True})


async def remove(mail: MailService, inbound_id: int) -> None:
    """Delete it for good: the row, its attachments and bytes no other mail uses."""
    async with mail.store.tx() as tx:
        session = tx.session
        row = await session.get(MailInbound, inbound_id)
        if row is None or row.status != QUARANTINED:
            raise NotFoundError(f"no quarantined mail {inbound_id}")
        shas = {row.raw_sha256}
        attachments = (await session.execute(
            select(MailAttachment.blob_sha256).where(MailAttachment.inbound_id == inbound_id)
        )).scalars()
        shas.update(attachments)
        await session.execute(delete(MailAttachment).where(MailAttachment.inbound_id == inbound_id))
        await session.delete(row)
        await session.flush()
        for sha in shas:
            used = await session.scalar(
                select(
                    exists().where(MailInbound.raw_sha256 == sha)
                    | exists().where(MailAttachment.blob_sha256 == sha)
                )
            )
            if not used:
                await session.execute(delete(MailBlob).where(MailBlob.sha256 == sha))
