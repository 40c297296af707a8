"""Outbound mail, before and after the relay.

:func:`prepare` runs in one transaction *before* anything is sent: it fixes the
mail's Message-ID (the outbox idempotency key plus an HMAC of it: the same on
every retry, unguessable), records it (so replies and bounces find it even if the
process dies mid-send), its recipients (the customer on To, the participants on
Cc), applies the suppression list and, for the bot's mail, the loop guard.
:func:`record` writes each recipient's outcome after the relay answered.
"""

from __future__ import annotations

from sqlalchemy import select

from gateway.db.tables import Message
from gateway.db.tables_mail import MailInbound, MailOutbound, MailParticipant, MailRecipient, MailThread
from gateway.flow.tx import Tx
from gateway.mail import guard, outbound_sql
from gateway.mail.addresses import normalise
from gateway.mail.plan import (
    FAILED,
    QUEUED,
    SENT,
    SUPPRESSED,
    OutboundPlan,
    QuotedMail,
    auto_submitted,
    cc_wanted,
    first_mail,
    message_id_for,
    still_filing,
    subject_for,
    thread_ids,
    withheld_before_guard,
)
from gateway.mail.processing import new_token
from gateway.mail.service import MailService
from gateway.models import AuthorKind, Outbound

__all__ = [  # the plan's names, as the channel imports them from here
    "FAILED", "QUEUED", "SENT", "SUPPRESSED", "OutboundPlan", "QuotedMail", "message_id_for", "prepare",
    "record",
]



async def prepare(mail: MailService, outbound: Outbound) -> OutboundPlan:
    async with mail.store.tx() as tx:
        if tx.hot is not None:  # SQLite: the same statements in plain SQL (outbound_sql.py)
            return await outbound_sql.prepare(tx, tx.hot, mail, outbound)
        return await _prepare(tx, mail, outbound)


async def _prepare(tx: Tx, mail: MailService, outbound: Outbound) -> OutboundPlan:
    session = tx.session
    conv = await tx.conversation(outbound.conversation_id)
    first, status = first_mail(outbound.thread_key), None
    if first is not None:  # read before the thread: its job writes both in one transaction
        status = await session.scalar(select(MailInbound.status).where(MailInbound.id == first))
    thread = await session.get(MailThread, conv.id)
    if thread is None and (wait := still_filing(status)) is not None:
        raise wait
    if thread is None:
        thread = MailThread(conversation_id=conv.id, token=new_token(), subject="", created_at=tx.now())
        session.add(thread)
    automatic = outbound.author is AuthorKind.BOT
    customer = normalise(outbound.recipient.address)
    out = (
        await session.execute(select(MailOutbound).where(MailOutbound.message_id == outbound.message_id))
    ).scalar_one_or_none()
    subject = await _subject(tx, thread.subject, conv.id)
    if out is None:
        key = outbound.idempotency_key or f"message-{outbound.message_id}"
        out = MailOutbound(
            message_id=outbound.message_id,
            conversation_id=conv.id,
            rfc_message_id=message_id_for(mail, key),
            subject=subject,
            automatic=automatic,
            created_at=tx.now(),
        )
        session.add(out)
        await session.flush()
    recipients = {
        r.address: r
        for r in (
            await session.execute(select(MailRecipient).where(MailRecipient.outbound_id == out.id))
        ).scalars()
    }
    if not recipients:
        participants = (
            await session.execute(
                select(MailParticipant.address)
                .where(MailParticipant.conversation_id == conv.id, MailParticipant.role == "cc")
                .order_by(MailParticipant.id)
            )
        ).scalars()
        for address, kind in cc_wanted(mail, customer, list(participants)):
            row = MailRecipient(
                outbound_id=out.id, address=address, kind=kind, state=QUEUED, updated_at=tx.now()
            )
            session.add(row)
            recipients[address] = row
        await session.flush()
    blocked = await guard.suppressed(session, list(recipients))
    for address, reason in blocked.items():
        rec = recipients.get(address)
        if rec is not None and rec.state == QUEUED:
            rec.state, rec.detail, rec.updated_at = SUPPRESSED, reason, tx.now()
    # a machine's mail (the bot's, a survey) never goes to a machine; only the bot's
    # answers count against the loop guard's caps (a survey answers no mail: it cannot loop)
    machine = auto_submitted(outbound.author) is not None
    withheld = withheld_before_guard(mail, customer, blocked, machine)
    if withheld is None and automatic:
        withheld = await guard.allow_automatic(
            session,
            mail.cfg,
            message_id=outbound.message_id,
            address=customer,
            conversation_id=conv.id,
            now=tx.now(),
        )
    parent, references = await _thread_ids(tx, conv.id, out.id)
    return OutboundPlan(
        rfc_message_id=out.rfc_message_id,
        from_address=mail.own.primary,
        from_name=mail.cfg.from_name,
        reply_to=mail.own.with_token(thread.token),
        to=customer,
        pending=tuple(a for a, r in recipients.items() if r.state == QUEUED),
        subject=out.subject or subject,
        in_reply_to=parent,
        references=references,
        automatic=automatic,
        auto_submitted=auto_submitted(outbound.author),
        lang=conv.lang or "en",
        quoted=await _quoted(tx, conv.id, outbound.message_id) if mail.cfg.quote_history else None,
        withheld=withheld,
        kinds={a: r.kind for a, r in recipients.items()},
    )


async def record(mail: MailService, plan: OutboundPlan, outcomes: dict[str, tuple[str, str]]) -> None:
    """Each recipient's outcome: ``{address: (sent|failed|queued, detail)}``."""
    async with mail.store.tx() as tx:
        if tx.hot is not None:  # SQLite: plain SQL (outbound_sql.py)
            await outbound_sql.record(tx, tx.hot, plan.rfc_message_id, outcomes)
            return
        out = (
            await tx.session.execute(
                select(MailOutbound).where(MailOutbound.rfc_message_id == plan.rfc_message_id)
            )
        ).scalar_one()
        rows = (
            await tx.session.execute(select(MailRecipient).where(MailRecipient.outbound_id == out.id))
        ).scalars()
        for rec in rows:
            if rec.address in outcomes:
                rec.state, rec.detail = outcomes[rec.address][0], outcomes[rec.address][1][:2000]
                rec.updated_at = tx.now()
        if any(state == SENT for state, _ in outcomes.values()):
            out.sent_at = tx.now()


async def _subject(tx: Tx, base: str, conversation_id: int) -> str:
    ticket = await tx.active_ticket(conversation_id)
    return subject_for(base, ticket.number if ticket is not None else None)


async def _thread_ids(tx: Tx, conversation_id: int, out_id: int) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To (the customer's latest mail) and References (its chain, then ours)."""
    last_in = (
        await tx.session.execute(
            select(MailInbound)
            .where(
                MailInbound.conversation_id == conversation_id,
                MailInbound.status == "processed",
                MailInbound.message_id.is_not(None),
            )
            .order_by(MailInbound.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    ours = list(
        (
            await tx.session.execute(
                select(MailOutbound.rfc_message_id)
                .where(MailOutbound.conversation_id == conversation_id, MailOutbound.id < out_id)
                .order_by(MailOutbound.id.desc())
                .limit(5)
            )
        ).scalars()
    )
    if last_in is None or not last_in.message_id:
        return thread_ids(None, ours)
    return thread_ids((last_in.message_id, list((last_in.details or {}).get("references", []))), ours)


async def _quoted(tx: Tx, conversation_id: int, message_id: int) -> QuotedMail | None:
    msg = (
        await tx.session.execute(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "in",
                Message.kind == "message",
                Message.id < message_id,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if msg is None:
        return None
    return QuotedMail(msg.author_name or "you", msg.created_at, msg.text)
