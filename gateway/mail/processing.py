"""The ``mail_ingest`` job: parse one stored mail, classify, thread and hand it
to the core.

- parse off the event loop, under ``email.parse_timeout``; a crash or a timeout
  quarantines the mail with the reason (it stays stored, never lost);
- ``spam_or_malformed`` → quarantine; ``bounce`` → :mod:`gateway.mail.bounces`;
- a customer's mail → ``accept_inbound`` on the conversation threading chose
  (:mod:`gateway.mail.threading`), routed by the bot; an auto-reply or a list
  mail → stored with ``auto_submitted`` (never answered): on its thread without
  reopening it, or in a conversation of its own;
- then the mail row records class, reason, clean text, thread rule, conversation
  and message; the conversation's email identity (token), participants and any
  merge suggestion are written.

Every step is idempotent (the accept is keyed by ``mail-<id>``), so a job that
dies half-way and runs again does nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, select

from gateway.db.tables import Message
from gateway.db.tables_mail import MailAttachment, MailInbound, MailParticipant, MailSuggestion, MailThread
from gateway.flow.job_queue import JobView
from gateway.flow.jobs import PermanentJobError
from gateway.flow.tx import Tx
from gateway.mail import blobs, bounces, processing_sql, quarantine, quick_replies, threading
from gateway.mail.addresses import normalise
from gateway.mail.contracts import AUTO_REPLY, BOUNCE, CUSTOMER, LIST, SPAM_OR_MALFORMED, MailFacts
from gateway.mail.service import MailService
from gateway.models import AcceptResult, Attachment, AuthorKind, Identity, Inbound

log = logging.getLogger(__name__)

CHANNEL = threading.CHANNEL
UNKNOWN_SENDER = "unknown-sender@sender.invalid"  # a released mail with no readable sender
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|tr|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_SUBJECT_TOKEN = re.compile(r"\s*\[#[^\]]{1,40}\]\s*")


def base_subject(subject: str) -> str:
    """ "Re: Fwd: Invoice [#G-1042]" → "Invoice"."""
    return _SUBJECT_TOKEN.sub(" ", _SUBJECT_PREFIX.sub("", subject)).strip()[:500]


def new_token() -> str:
    return secrets.token_hex(8)  # 64 bits: the plus-address token of a conversation


class IngestJob:
    def __init__(self, mail: MailService) -> None:
        self.mail = mail

    async def handle(self, job: JobView) -> None:
        inbound_id = job.payload.get("inbound_id")
        if not isinstance(inbound_id, int):
            raise PermanentJobError(f"mail_ingest job without inbound_id: {job.payload!r}")
        release = bool(job.payload.get("release"))
        stored, job.prepared = job.prepared, None  # its bytes count against the held budget
        if isinstance(stored, processing_sql.StoredMail) and not release:
            # the fast path, right after the accept that wrote it: nothing to read back
            # (_finish checks the row is still "received" before writing the outcome)
            raw, envelope_to, envelope_from = stored.raw, list(stored.envelope_to), stored.envelope_from
        else:
            async with self.mail.store.read() as tx:
                row = await tx.session.get(MailInbound, inbound_id)
                if row is None or row.status != "received":
                    return  # processed before a crash marked the job done, or deleted
                raw = await blobs.get(tx.session, row.raw_sha256) or b""
                envelope_to = [str(a) for a in row.envelope_to or []]
                envelope_from = row.envelope_from
        facts, failure = await self._parse(raw)
        if facts is None:
            if not release:
                await quarantine.quarantine(self.mail, inbound_id, failure)
                return
            unreadable = "(this mail could not be read; see the raw message)"
            facts = MailFacts(SPAM_OR_MALFORMED, failure, full_text=unreadable)
        if release and facts.mail_class in (SPAM_OR_MALFORMED, BOUNCE):
            facts = _as_released(facts)
        if facts.mail_class == SPAM_OR_MALFORMED:
            reason = f"{facts.mail_class}: {facts.class_reason}"
            await quarantine.quarantine(self.mail, inbound_id, reason, facts)
        elif facts.mail_class == BOUNCE:
            await bounces.apply(self.mail, inbound_id, facts)
        else:
            await self._deliver(inbound_id, facts, envelope_to, released=release, envelope_from=envelope_from)

    async def on_dead(self, tx: Tx, job: JobView, error: str) -> None:
        """A mail whose processing kept failing is quarantined with the error."""
        inbound_id = job.payload.get("inbound_id")
        if isinstance(inbound_id, int):
            await quarantine.put(tx, inbound_id, f"processing failed: {error[:1000]}")

    async def _parse(self, raw: bytes) -> tuple[MailFacts | None, str]:
        parser = self.mail.parser
        if parser is None:
            raise RuntimeError("no mail parser: the email channel is not running in this process")
        own = list(self.mail.own.addresses)
        try:
            facts = await asyncio.wait_for(
                asyncio.to_thread(parser, raw, own), timeout=self.mail.cfg.parse_timeout
            )
        except TimeoutError:
            return None, f"parsing took longer than {self.mail.cfg.parse_timeout:g} s"
        except Exception as exc:
            log.warning("mail parser failed: %s", exc, exc_info=True)
            return None, f"the parser failed: {type(exc).__name__}: {str(exc)[:300]}"
        return facts, ""

    async def _deliver(
        self,
        inbound_id: int,
        facts: MailFacts,
        envelope_to: list[str],
        *,
        released: bool,
        envelope_from: str = "",
    ) -> None:
        mail = self.mail
        sender_addr = normalise(facts.sender.address) if facts.sender and facts.sender.address else ""
        if not sender_addr and released:  # an admin wants it processed: keep what we know
            sender_addr = normalise(envelope_from) or UNKNOWN_SENDER
        if not sender_addr:
            await quarantine.quarantine(mail, inbound_id, "no readable From address", facts)
            return
        async with mail.store.read() as tx:
            decision = await threading.decide(tx.session, mail, facts, envelope_to, tx.now())
            thread_key, quick = f"mail-{inbound_id}", None
            if decision.conversation_id is not None:
                conv = await tx.conversation(decision.conversation_id)
                thread_key = conv.thread_key
                quick = quick_replies.map_reply(facts.text, await _last_quick_replies(tx, conv.id))
        attachments = await self._store_attachments(inbound_id, facts)
        automatic = facts.mail_class in (AUTO_REPLY, LIST) or released
        text = facts.text.strip() or facts.full_text.strip()
        subject = base_subject(facts.subject)
        if decision.conversation_id is None and subject and subject.casefold() not in text.casefold():
            text = f"{subject}\n\n{text}".strip()
        if facts.omitted_summary:
            text = f"{text}\n\n[{facts.omitted_summary}]".strip()
        inbound = Inbound(
            channel=CHANNEL,
            external_id=f"mail-{inbound_id}",
            thread_key=thread_key,
            sender=Identity(CHANNEL, sender_addr, facts.sender.name if facts.sender else ""),
            text=text or "(empty mail)",
            received_at=mail.clock.now(),
            html=facts.html_sanitised,
            attachments=attachments,
            auto_submitted=automatic,
            language_hint=facts.language,
            quick_reply=quick,
        )
        if automatic and decision.conversation_id is not None:
            result = await self._attach_quietly(decision.conversation_id, inbound, facts)
        else:
            result = await mail.store.accept_inbound(inbound)
        await self._finish(inbound_id, facts, decision, result, sender_addr)

    async def _store_attachments(self, inbound_id: int, facts: MailFacts) -> tuple[Attachment, ...]:
        if not facts.attachments:
            return ()
        out: list[Attachment] = []
        async with self.mail.store.tx() as tx:
            session = tx.session
            await session.execute(delete(MailAttachment).where(MailAttachment.inbound_id == inbound_id))
            for f in facts.attachments:
                sha = await blobs.put(session, f.data, tx.now())
                session.add(
                    MailAttachment(
                        inbound_id=inbound_id,
                        filename=f.filename[:255],
                        content_type=f.content_type[:127],
                        size=len(f.data),
                        blob_sha256=sha,
                        content_id=f.content_id[:255] if f.content_id else None,
                        inline=f.inline,
                    )
                )
                out.append(Attachment(f.filename, f.content_type, len(f.data), blobs.ref_of(sha)))
        return tuple(out)

    async def _attach_quietly(self, conversation_id: int, inbound: Inbound, facts: MailFacts) -> AcceptResult:
        """An auto-reply or list mail on a known thread: stored, not routed, and the
        conversation's state left alone (an out-of-office never reopens a ticket)."""
        async with self.mail.store.tx() as tx:
            found = await tx.find_external(CHANNEL, inbound.external_id)
            if found is not None:
                return found
            await tx.identity_for(inbound.sender)
            conv = await tx.lock_conversation(conversation_id)
            msg = await tx.add_message(
                conv,
                direction="in",
                author=AuthorKind.CUSTOMER,
                author_name=inbound.sender.display_name,
                text=inbound.text,
                html=inbound.html,
                external_id=inbound.external_id,
                meta={
                    "auto_submitted": True,
                    "mail_class": facts.mail_class,
                    "routed": True,
                    "action": "none",
                    "reason": facts.mail_class,
                },
                created_at=inbound.received_at,
            )
            return AcceptResult(msg.id, conv.id, duplicate=False)

    async def _finish(
        self,
        inbound_id: int,
        facts: MailFacts,
        decision: threading.ThreadDecision,
        result: AcceptResult,
        sender: str,
    ) -> None:
        async with self.mail.store.tx() as tx:
            if tx.hot is not None and decision.follows_id is None:  # SQLite: processing_sql.py
                if await processing_sql.finish(
                    tx, tx.hot, inbound_id, conversation_id=result.conversation_id,
                    message_id=result.message_id,
                    new_thread=(new_token(), base_subject(facts.subject), decision.follows_id),
                    participants=self._participants(facts, sender),
                    suggestion=(decision.candidate_id, decision.candidate_reason)
                    if decision.candidate_id is not None and decision.conversation_id is None else None,
                    outcome=_outcome(facts, decision),
                    details=_details(facts),
                ):
                    done = {"inbound_id": inbound_id, "conversation_id": result.conversation_id}
                    tx.emit("mail.processed", done)
                return
            session = tx.session
            row = await session.get(MailInbound, inbound_id)
            if row is None or row.status != "received":
                return
            conv_id = result.conversation_id
            thread = await session.get(MailThread, conv_id)
            if thread is None:
                session.add(
                    MailThread(
                        conversation_id=conv_id,
                        token=new_token(),
                        subject=base_subject(facts.subject),
                        follows_conversation_id=decision.follows_id,
                        created_at=tx.now(),
                    )
                )
                await _add_participant(session, conv_id, sender, "customer", tx)
            if facts.mail_class == CUSTOMER:  # the customer's colleagues on Cc join
                own = self.mail.own
                for a in (*facts.to, *facts.cc):
                    if a.address and not own.accepts(a.address) and normalise(a.address) != sender:
                        await _add_participant(session, conv_id, a.address, "cc", tx)
            if decision.candidate_id is not None and decision.conversation_id is None:
                session.add(
                    MailSuggestion(
                        conversation_id=conv_id,
                        candidate_id=decision.candidate_id,
                        reason=decision.candidate_reason,
                        status="open",
                        created_at=tx.now(),
                    )
                )
            if decision.follows_id is not None:
                await _note(tx, conv_id, decision.follows_id)
            row.status = "processed"
            for name, value in _outcome(facts, decision).items():
                setattr(row, name, value)
            row.conversation_id, row.stored_message_id = conv_id, result.message_id
            row.processed_at = tx.now()
            row.details = {**(row.details or {}), **_details(facts)}
            tx.emit("mail.processed", {"inbound_id": inbound_id, "conversation_id": conv_id})


    def _participants(self, facts: MailFacts, sender: str) -> list[tuple[str, str]]:
        """The sender (the customer, when the thread is new) and, for a customer's mail,
        the colleagues on To/Cc: who may write to this conversation."""
        found = [(normalise(sender), "customer")]
        if facts.mail_class == CUSTOMER:
            own = self.mail.own
            for a in (*facts.to, *facts.cc):
                if a.address and not own.accepts(a.address) and normalise(a.address) != sender:
                    found.append((normalise(a.address), "cc"))
        return found


def _outcome(facts: MailFacts, decision: threading.ThreadDecision) -> dict[str, Any]:
    return {
        "mail_class": facts.mail_class,
        "class_reason": facts.class_reason[:4000],
        "clean_text": facts.text,
        "quoted": facts.quoted,
        "signature": facts.signature,
        "thread_rule": decision.rule,
    }


async def _add_participant(session: Any, conv_id: int, address: str, role: str, tx: Tx) -> None:
    addr = normalise(address)
    stmt = select(MailParticipant.id).where(
        MailParticipant.conversation_id == conv_id, MailParticipant.address == addr
    )
    if (await session.execute(stmt)).first() is None:
        session.add(MailParticipant(conversation_id=conv_id, address=addr, role=role, created_at=tx.now()))
        await session.flush()


async def _note(tx: Tx, conv_id: int, follows_id: int) -> None:
    from gateway.models import MessageKind

    conv = await tx.lock_conversation(conv_id)
    old = await tx.active_ticket(follows_id)
    label = old.number if old is not None and old.number else f"conversation {follows_id}"
    text = f"This mail answers a conversation resolved too long ago to reopen ({label}); it opened this one."
    await tx.add_message(conv, direction="out", author=AuthorKind.SYSTEM, kind=MessageKind.EVENT, text=text)


async def _last_quick_replies(tx: Tx, conversation_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(Message.quick_replies)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "out",
            Message.author_kind == AuthorKind.BOT.value,
            Message.kind == "message",
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    found = (await tx.session.execute(stmt)).scalar_one_or_none()
    return list(found or [])


def _as_released(facts: MailFacts) -> MailFacts:
    reason = f"released from quarantine ({facts.class_reason})"
    return replace(facts, mail_class=AUTO_REPLY, class_reason=reason)


def _details(facts: MailFacts) -> dict[str, Any]:
    return {
        "subject": facts.subject[:500],
        "in_reply_to": list(facts.in_reply_to)[:20],
        "references": list(facts.references)[-20:],
        "to": [a.address for a in facts.to][:50],
        "cc": [a.address for a in facts.cc][:50],
        "problems": list(facts.problems)[:50],
        "omitted": facts.omitted_summary,
        "language": facts.language,
    }
