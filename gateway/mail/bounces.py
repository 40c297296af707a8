"""Delivery-status notifications: a message about a message, never a new
conversation (Postfix's rule).  The report is attached to the conversation of
the mail it reports on (an internal note), that mail's recipient is marked
failed (5.x.x: the address is suppressed) or delayed (4.x.x), and nothing
answers it.  A report about nothing we sent is quarantined (backscatter)."""

from __future__ import annotations

from sqlalchemy import select

from gateway.db.tables import Message
from gateway.db.tables_mail import MailInbound, MailOutbound, MailRecipient
from gateway.flow.tx import Tx, message_view
from gateway.mail import guard, quarantine
from gateway.mail.addresses import normalise
from gateway.mail.contracts import BounceFacts, MailFacts
from gateway.mail.service import MailService
from gateway.models import AuthorKind, DeliveryStatus, MessageKind


def permanent(b: BounceFacts) -> bool:
    return b.status.startswith("5") or (not b.status and b.action == "failed")


def temporary(b: BounceFacts) -> bool:
    return b.status.startswith("4") or (not b.status and b.action == "delayed")


async def apply(mail: MailService, inbound_id: int, facts: MailFacts) -> None:
    ids = [b.original_message_id for b in facts.bounces if b.original_message_id]
    ids += [*facts.in_reply_to, *facts.references]
    async with mail.store.tx() as tx:
        out = None
        if ids:
            stmt = select(MailOutbound).where(MailOutbound.rfc_message_id.in_(ids[:50])).limit(1)
            out = (await tx.session.execute(stmt)).scalar_one_or_none()
        if out is None:
            await quarantine.put(
                tx, inbound_id, "bounce about a message we did not send (or no longer know)", facts
            )
            return
        await _apply(tx, mail, inbound_id, out, facts)


async def _apply(tx: Tx, mail: MailService, inbound_id: int, out: MailOutbound, facts: MailFacts) -> None:
    conv = await tx.lock_conversation(out.conversation_id)
    msg = await tx.session.get(Message, out.message_id)
    recipients = {
        normalise(r.address): r
        for r in (
            await tx.session.execute(select(MailRecipient).where(MailRecipient.outbound_id == out.id))
        ).scalars()
    }
    lines = []
    for b in facts.bounces:
        addr = normalise(b.recipient)
        detail = " ".join(x for x in (b.status, b.diagnostic) if x)[:500] or b.action or "no detail"
        rec = recipients.get(addr)
        if permanent(b):
            await guard.suppress(tx.session, addr, f"bounced {b.status}: {b.diagnostic}"[:500], tx.now())
            lines.append(f"{addr}: failed ({detail}); address suppressed")
            state = "failed"
        elif temporary(b):
            lines.append(f"{addr}: delayed ({detail})")
            state = "delayed"
        else:
            lines.append(f"{addr}: {b.action or 'reported'} ({detail})")
            continue
        if rec is not None:
            rec.state, rec.detail, rec.updated_at = state, f"bounce: {detail}", tx.now()
        if msg is not None and (rec is None or rec.kind == "to"):
            _mark(tx, msg, state, detail)
    if not facts.bounces:
        lines.append("a delivery report we could not read per recipient")
    row = await tx.session.get(MailInbound, inbound_id)
    if row is not None:
        row.status = "processed"
        row.mail_class, row.class_reason = facts.mail_class, facts.class_reason[:4000]
        row.conversation_id, row.thread_rule, row.processed_at = conv.id, "bounce", tx.now()
    note = f"Delivery report about our mail <{out.rfc_message_id}>: " + "; ".join(lines)
    await tx.add_message(conv, direction="out", author=AuthorKind.SYSTEM, kind=MessageKind.NOTE, text=note)


def _mark(tx: Tx, msg: Message, state: str, detail: str) -> None:
    meta = dict(msg.meta or {})
    if state == "failed":
        msg.delivery = DeliveryStatus.FAILED.value
        meta["delivery_detail"] = f"bounced: {detail}"
    else:
        meta["delivery_detail"] = f"delayed: {detail}"
    msg.meta = meta
    view = message_view(msg).to_operator()
    tx.emit("message.updated", {"conversation_id": msg.conversation_id, "message": view})
