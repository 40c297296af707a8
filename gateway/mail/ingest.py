"""Inbound mail enters here: :func:`ingest_raw` stores the raw bytes and a
``mail_ingest`` job in one transaction and returns after the COMMIT, so the
caller may then acknowledge (SMTP 250, IMAP flag).  Parsing, classification,
threading and routing happen in that job (:mod:`gateway.mail.processing`).

Idempotent: the same ``source_ref`` (one SMTP transaction, one IMAP
``mailbox:uidvalidity:uid``) or the same Message-ID from the same From address
is stored once; a repeat returns the first with ``duplicate=True``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables_mail import MailInbound
from gateway.mail import blobs, ingest_sql, rate
from gateway.mail.addresses import first_address, normalise
from gateway.mail.service import MailService

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from gateway.db.tables import Job
    from gateway.flow.tx import Tx

INGEST_JOB = "mail_ingest"
MAX_ACCEPT_BATCH = 32
SOURCES = ("smtp", "imap")
_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
_MSGID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True, slots=True)
class IngestResult:
    inbound_id: int
    duplicate: bool  # stored before (same source_ref, or same Message-ID from the same sender)


@dataclass(frozen=True, slots=True)
class HeaderPeek:
    message_id: str | None
    from_address: str
    from_name: str
    subject: str


def peek_headers(raw: bytes) -> HeaderPeek:
    """Message-ID, From and Subject from the header block only; never raises."""
    match = _HEADER_END.search(raw, 0, 1_000_000)
    head = raw[: match.end()] if match else raw[:1_000_000]
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(head)
        mid_raw = str(msg.get("Message-ID", "") or "")
        name, addr = first_address(str(msg.get("From", "") or ""))
        subject = str(msg.get("Subject", "") or "")
    except Exception:
        return HeaderPeek(None, "", "", "")
    found = _MSGID.search(mid_raw)
    mid = found.group(1) if found else (mid_raw.strip() or None)
    return HeaderPeek(mid[:500] if mid else None, normalise(addr)[:320], name[:200], subject[:500])


def dedupe_key(peek: HeaderPeek) -> str | None:
    if not peek.message_id:
        return None
    who = peek.from_address.lower()
    return hashlib.sha256(f"{who}\x00{peek.message_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One received message to store (see :func:`ingest_raw`)."""

    raw: bytes
    source: str
    source_ref: str
    envelope_from: str
    envelope_to: tuple[str, ...]
    client: str
    peek: HeaderPeek
    key: str | None


async def ingest_raw(
    mail: MailService,
    raw: bytes,
    *,
    source: str,
    source_ref: str,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
    client: str = "",
) -> IngestResult:
    """Store one received message and its processing job; returns after COMMIT.

    ``source`` is ``"smtp"`` or ``"imap"``; ``source_ref`` is unique per delivery
    (``"smtp:<uuid>"``, ``"imap:<mailbox>:<uidvalidity>:<uid>"``).  ``client`` (the
    SMTP peer's address) is counted for the per-client rate limit.  On SQLite the
    messages that arrive together are written together (:class:`AcceptBatch`).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown mail source {source!r}")
    peek = peek_headers(raw)
    delivery = Delivery(raw, source, source_ref, envelope_from, tuple(envelope_to), client, peek,
                        dedupe_key(peek))
    if mail.store.sqlite:
        batch = mail.accepts
        if not isinstance(batch, AcceptBatch):
            batch = mail.accepts = AcceptBatch(mail)
        return await batch.accept(delivery)
    return await _ingest_one(mail, delivery)


class AcceptBatch:
    """SQLite: the accepts that arrive while one is being committed are written
    together, in one write unit (one transaction, one fsync, no hand-over between
    them), each with the same look-up of an earlier delivery and the same rows as
    alone; each caller returns after that commit.  If the unit fails (a delivery
    of the same message committed by another process meanwhile, a bad row), each
    message of it is stored alone, so one message's failure is its own."""

    def __init__(self, mail: MailService) -> None:
        self.mail = mail
        self.waiting: list[tuple[Delivery, asyncio.Future[IngestResult]]] = []
        self.task: asyncio.Task[None] | None = None

    async def accept(self, delivery: Delivery) -> IngestResult:
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self.waiting.append((delivery, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="mail-accept-batch")
        return await asyncio.shield(future)  # a caller that goes away does not cancel the others

    async def _run(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:MAX_ACCEPT_BATCH], self.waiting[MAX_ACCEPT_BATCH:]
            try:
                results = await self._store([d for d, _ in batch])
            except Exception:
                log.info("a batch of %d accepts failed; storing each alone", len(batch), exc_info=True)
                for delivery, future in batch:
                    try:
                        result = await _ingest_one(self.mail, delivery)
                    except Exception as exc:
                        _settle(future, exc)
                    else:
                        _settle(future, result)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                _settle(future, result)

    async def _store(self, batch: list[Delivery]) -> list[IngestResult]:
        mail = self.mail
        results: list[IngestResult] = []
        async with mail.store.tx(fast=True, urgent=True, light=True) as tx:  # SQLite only: plain SQL
            hot = tx.hot
            assert hot is not None
            for d in batch:
                found = await ingest_sql.existing(hot, d.source_ref, d.key)
                if found is not None:  # an earlier delivery, or the same message earlier in this batch
                    results.append(IngestResult(found, duplicate=True))
                    continue
                inbound_id, job = await ingest_sql.store(
                    tx, hot, d.raw, d.peek, d.key, INGEST_JOB, source=d.source, source_ref=d.source_ref,
                    envelope_from=d.envelope_from, envelope_to=d.envelope_to, client=d.client,
                    window_seconds=mail.cfg.rate_limit_window_seconds,
                )
                _hand_over(mail, tx, job, d.raw, d.envelope_to, d.envelope_from)
                results.append(IngestResult(inbound_id, duplicate=False))
        return results


def _settle(future: asyncio.Future[IngestResult], outcome: IngestResult | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


async def _ingest_one(mail: MailService, d: Delivery) -> IngestResult:
    """One message in a write unit of its own."""
    raw, source, source_ref, envelope_from, envelope_to, client = (
        d.raw, d.source, d.source_ref, d.envelope_from, d.envelope_to, d.client)
    peek, key = d.peek, d.key
    try:
        async with mail.store.tx(fast=True, urgent=True, plain=mail.store.sqlite) as tx:
            if tx.hot is not None:  # SQLite: the same statements in plain SQL (ingest_sql.py)
                found = await ingest_sql.existing(tx.hot, source_ref, key)
                if found is not None:
                    return IngestResult(found, duplicate=True)
                inbound_id, job = await ingest_sql.store(
                    tx, tx.hot, raw, peek, key, INGEST_JOB, source=source, source_ref=source_ref,
                    envelope_from=envelope_from, envelope_to=envelope_to, client=client,
                    window_seconds=mail.cfg.rate_limit_window_seconds,
                )
                _hand_over(mail, tx, job, raw, envelope_to, envelope_from)
                return IngestResult(inbound_id, duplicate=False)
            found = await _existing(tx.session, source_ref, key)
            if found is not None:
                return IngestResult(found, duplicate=True)
            now = tx.now()
            sha = await blobs.put(tx.session, raw, now)
            row = MailInbound(
                source=source,
                source_ref=source_ref[:512],
                dedupe_key=key,
                raw_sha256=sha,
                size=len(raw),
                envelope_from=envelope_from[:320],
                envelope_to=[str(a)[:320] for a in envelope_to][:100],
                client=client[:64],
                message_id=peek.message_id,
                from_address=peek.from_address,
                from_name=peek.from_name,
                subject=peek.subject,
                status="received",
                details={},
                received_at=now,
            )
            tx.session.add(row)
            await tx.session.flush()
            if client:
                await rate.bump(tx.session, f"smtp:{client}", now, mail.cfg.rate_limit_window_seconds)
            job = tx.enqueue(INGEST_JOB, {"inbound_id": row.id})
            _hand_over(mail, tx, job, raw, envelope_to, envelope_from)
            return IngestResult(row.id, duplicate=False)
    except (IntegrityError, sqlite3.IntegrityError):
        # A concurrent delivery of the same message committed first.
        async with mail.store.read() as tx:
            found = await _existing(tx.session, source_ref, key)
        if found is None:
            raise
        return IngestResult(found, duplicate=True)


def _hand_over(
    mail: MailService, tx: Tx, job: Job, raw: bytes, envelope_to: Sequence[str], envelope_from: str
) -> None:
    """On the fast path the job is given what it would read back (``StoredMail``),
    while the bytes held in memory stay within budget (``SmtpPause.stored``)."""
    if tx.fast_path:
        stored = mail.smtp.stored(raw, [str(a)[:320] for a in envelope_to][:100], envelope_from[:320])
        if stored is not None:
            tx.prepare(job, stored)


async def _existing(session: AsyncSession, source_ref: str, key: str | None) -> int | None:
    cond = MailInbound.source_ref == source_ref
    if key is not None:
        cond = or_(cond, MailInbound.dedupe_key == key)
    row = (await session.execute(select(MailInbound.id).where(cond).limit(1))).first()
    return int(row[0]) if row else None
