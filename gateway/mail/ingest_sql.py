"""The SMTP/IMAP accept (:func:`gateway.mail.ingest.ingest_raw`) in plain SQL on
SQLite's own connection, inside the same group-commit unit: the same look-up of an
earlier delivery, the same rows (raw bytes, ``mail_inbound``, the client's rate
count) and the same ``mail_ingest`` job (claimed for the fast path as ``Tx.enqueue``
would; the caller hands it the stored mail), at a fraction of the ORM's cost per statement (see
:mod:`gateway.flow.hot_sql`).  PostgreSQL always takes the ORM path."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gateway.db.types import sqlite_text
from gateway.mail import blobs, rate

if TYPE_CHECKING:
    from gateway.db.tables import Job
    from gateway.flow.hot_sql import HotSql
    from gateway.flow.tx import Tx
    from gateway.mail.ingest import HeaderPeek


async def existing(hot: HotSql, source_ref: str, key: str | None) -> int | None:
    db = await hot.db()
    row = db.execute(
        "SELECT id FROM mail_inbound WHERE source_ref = ? OR (? IS NOT NULL AND dedupe_key = ?) LIMIT 1",
        (source_ref[:512], key, key),
    ).fetchone()
    return int(row[0]) if row else None


async def store(
    tx: Tx,
    hot: HotSql,
    raw: bytes,
    peek: HeaderPeek,
    key: str | None,
    job_kind: str,
    *,
    source: str,
    source_ref: str,
    envelope_from: str,
    envelope_to: Sequence[str],
    client: str,
    window_seconds: int,
) -> tuple[int, Job]:
    """Store one received message and its job; returns the ``mail_inbound`` id and
    the job.  A concurrent delivery of the same message raises ``sqlite3.IntegrityError``."""
    db = await hot.db()
    now = tx.now()
    sha = blobs.digest(raw)
    db.execute(
        "INSERT INTO mail_blobs (sha256, size, content, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sha256) DO NOTHING",
        (sha, len(raw), raw, sqlite_text(now)),
    )
    inbound_id = int(db.execute(
        "INSERT INTO mail_inbound (source, source_ref, dedupe_key, raw_sha256, size, envelope_from, "
        "envelope_to, client, message_id, from_address, from_name, subject, status, class_reason, "
        "quarantine_reason, clean_text, quoted, signature, thread_rule, details, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', '', '', '', '', '', '', '{}', ?) "
        "RETURNING id",
        (source, source_ref[:512], key, sha, len(raw), envelope_from[:320],
         json.dumps([str(a)[:320] for a in envelope_to][:100]), client[:64], peek.message_id,
         peek.from_address, peek.from_name, peek.subject, sqlite_text(now)),
    ).fetchone()[0])
    if client:
        db.execute(
            "INSERT INTO mail_rate_counts (key, window_start, count) VALUES (?, ?, 1) "
            "ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1",
            (f"smtp:{client}"[:128], sqlite_text(rate.window_start(now, window_seconds))),
        )
    return inbound_id, await hot.enqueue(tx, job_kind, {"inbound_id": inbound_id})
