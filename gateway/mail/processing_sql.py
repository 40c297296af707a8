"""The ``mail_ingest`` job's bookkeeping in plain SQL on SQLite (the ORM path of
:mod:`gateway.mail.processing` stays for PostgreSQL and for the rare cases named
below): the same rows and checks at a fraction of the ORM's cost per statement
(see :mod:`gateway.flow.hot_sql`).

- :class:`StoredMail`: what the accept just wrote (raw bytes, envelope), handed to
  the ``mail_ingest`` job on the fast path (:meth:`gateway.flow.tx.Tx.prepare`), so
  the job does not read back the row and the raw message it was given; a job run
  by a worker (a retry, another process) reads them as before.
- :func:`finish`: the mail row's outcome, the conversation's email identity
  (token, subject), its participants and a merge suggestion, in one write
  transaction; a mail that follows a conversation resolved too long ago (an event
  line in the new conversation) takes the ORM path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.db.tables_mail import MailInbound, MailThread
from gateway.db.types import sqlite_text

if TYPE_CHECKING:
    from gateway.flow.hot_sql import HotSql
    from gateway.flow.tx import Tx


@dataclass(frozen=True, slots=True, weakref_slot=True)
class StoredMail:
    """A mail as its accept stored it (status ``received``), for the fast path."""

    raw: bytes
    envelope_to: tuple[str, ...]
    envelope_from: str


async def finish(
    tx: Tx,
    hot: HotSql,
    inbound_id: int,
    *,
    conversation_id: int,
    message_id: int,
    new_thread: tuple[str, str, int | None] | None,  # (token, subject, follows) when none exists yet
    participants: list[tuple[str, str]],  # (normalised address, role), customer first
    suggestion: tuple[int, str] | None,  # (candidate conversation, reason)
    outcome: dict[str, Any],  # mail_class, class_reason, clean_text, quoted, signature, thread_rule
    details: dict[str, Any],
) -> bool:
    """``IngestJob._finish`` in plain SQL; False (nothing written) when the mail was
    processed meanwhile or deleted."""
    db = await hot.db()
    now = sqlite_text(tx.now())
    row = db.execute("SELECT status, details FROM mail_inbound WHERE id = ?", (inbound_id,)).fetchone()
    if row is None or row[0] != "received":
        return False
    has_thread = db.execute(
        "SELECT 1 FROM mail_threads WHERE conversation_id = ?", (conversation_id,)
    ).fetchone() is not None
    wanted = participants
    if not has_thread and new_thread is not None:
        token, subject, follows = new_thread
        db.execute(
            "INSERT INTO mail_threads (conversation_id, token, subject, follows_conversation_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (conversation_id, token, subject, follows, now),
        )
    else:  # the customer is there already (added with the thread)
        wanted = [p for p in participants if p[1] != "customer"]
    if wanted:
        db.executemany(
            "INSERT INTO mail_participants (conversation_id, address, role, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (conversation_id, address) DO NOTHING",
            [(conversation_id, address, role, now) for address, role in wanted],
        )
    if suggestion is not None:
        db.execute(
            "INSERT INTO mail_suggestions (conversation_id, candidate_id, reason, status, created_at) "
            "VALUES (?, ?, ?, 'open', ?)",
            (conversation_id, suggestion[0], suggestion[1], now),
        )
    merged = {**(json.loads(row[1]) if isinstance(row[1], str) and row[1] else {}), **details}
    db.execute(
        "UPDATE mail_inbound SET status = 'processed', mail_class = ?, class_reason = ?, clean_text = ?, "
        "quoted = ?, signature = ?, thread_rule = ?, conversation_id = ?, stored_message_id = ?, "
        "processed_at = ?, details = ? WHERE id = ?",
        (outcome["mail_class"], outcome["class_reason"], outcome["clean_text"], outcome["quoted"],
         outcome["signature"], outcome["thread_rule"], conversation_id, message_id, now,
         json.dumps(merged), inbound_id),
    )
    hot.forget(MailInbound, inbound_id)
    hot.forget(MailThread, conversation_id)
    return True
