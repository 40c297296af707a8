"""Inbound mail enters here: :func:`ingest_raw` stores the raw bytes and a
``mail_ingest`` job in one transaction and returns after the COMMIT, so the
caller may then acknowledge (SMTP 250, IMAP flag).  Parsing, classification,
threading and routing happen in that job (:mod:`gateway.mail.processing`).

Idempotent: the same ``source_ref`` (one SMTP transaction, one IMAP
``mailbox:uidvalidity:uid``) or the same Message-ID from the same From address
is stored once; a repeat returns the first with ``duplicate=True``.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables_mail import MailInbound
from gateway.mail import blobs, ingest_sql, rate
from gateway.mail.addresses import first_address, normalise
from gateway.mail.processing_sql import StoredMail
from gateway.mail.service import MailService

INGEST_JOB = "mail_ingest"
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
    SMTP peer's address) is counted for the per-client rate limit.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown mail source {source!r}")
    peek = peek_headers(raw)
    key = dedupe_key(peek)
    try:
        async with mail.store.tx(fast=True, urgent=True) as tx:
            if tx.hot is not None:  # SQLite: the same statements in plain SQL (ingest_sql.py)
                found = await ingest_sql.existing(tx.hot, source_ref, key)
                if found is not None:
                    return IngestResult(found, duplicate=True)
                inbound_id = await ingest_sql.store(
                    tx, tx.hot, raw, peek, key, INGEST_JOB, source=source, source_ref=source_ref,
                    envelope_from=envelope_from, envelope_to=envelope_to, client=client,
                    window_seconds=mail.cfg.rate_limit_window_seconds,
                )
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
            tx.prepare(job, StoredMail(raw, tuple(row.envelope_to), row.envelope_from))
            return IngestResult(row.id, duplicate=False)
    except (IntegrityError, sqlite3.IntegrityError):
        # A concurrent delivery of the same message committed first.
        async with mail.store.read() as tx:
            found = await _existing(tx.session, source_ref, key)
        if found is None:
            raise
        return IngestResult(found, duplicate=True)


async def _existing(session: AsyncSession, source_ref: str, key: str | None) -> int | None:
    cond = MailInbound.source_ref == source_ref
    if key is not None:
        cond = or_(cond, MailInbound.dedupe_key == key)
    row = (await session.execute(select(MailInbound.id).where(cond).limit(1))).first()
    return int(row[0]) if row else None
