"""The email send's bookkeeping (:func:`gateway.mail.outbound.prepare` and
:func:`~gateway.mail.outbound.record`) in plain SQL on SQLite's own connection, in
the same write transaction: the same reads, rows and checks — thread identity,
the outbound row and its deterministic Message-ID, recipients, the suppression
list, the loop guard's counts, In-Reply-To/References, the quoted history — at a
fraction of the ORM's cost per statement (see :mod:`gateway.flow.hot_sql`).
PostgreSQL always takes the ORM path (and its advisory lock for the loop guard;
SQLite has one writer at a time, so the guard's count-then-insert cannot race).

Rows changed here are dropped from the shared session's identity map, as
:class:`gateway.flow.hot_sql.HotSql` does, so a later unit of the same group
commit reads them afresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gateway.db.tables_mail import MailOutbound, MailRecipient
from gateway.db.types import sqlite_text
from gateway.errors import NotFoundError
from gateway.mail import guard
from gateway.mail.addresses import normalise
from gateway.mail.plan import (
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
from gateway.models import AuthorKind, Outbound, TicketStatus

if TYPE_CHECKING:
    import sqlite3

    from gateway.flow.hot_sql import HotSql
    from gateway.flow.tx import Tx

_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


def _dt(value: Any) -> datetime:
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


async def prepare(tx: Tx, hot: HotSql, mail: MailService, outbound: Outbound) -> OutboundPlan:
    db = await hot.db()
    now = tx.now()
    conv_id = outbound.conversation_id
    conv = db.execute("SELECT lang FROM conversations WHERE id = ?", (conv_id,)).fetchone()
    if conv is None:
        raise NotFoundError(f"conversation {conv_id} not found")
    thread = db.execute(
        "SELECT token, subject FROM mail_threads WHERE conversation_id = ?", (conv_id,)
    ).fetchone()
    if thread is None and (first := first_mail(outbound.thread_key)) is not None:  # SQLite: one writer
        status = db.execute("SELECT status FROM mail_inbound WHERE id = ?", (first,)).fetchone()
        if (wait := still_filing(status[0] if status else None)) is not None:
            raise wait
    if thread is None:
        token, base = new_token(), ""
        db.execute(
            "INSERT INTO mail_threads (conversation_id, token, subject, follows_conversation_id, created_at) "
            "VALUES (?, ?, '', NULL, ?)",
            (conv_id, token, sqlite_text(now)),
        )
    else:
        token, base = thread
    automatic = outbound.author is AuthorKind.BOT
    customer = normalise(outbound.recipient.address)
    ticket = db.execute(
        "SELECT number FROM tickets WHERE conversation_id = ? AND status NOT IN (?, ?) "
        "ORDER BY id DESC LIMIT 1",
        (conv_id, *_DONE),
    ).fetchone()
    subject = subject_for(base, ticket[0] if ticket else None)
    out = db.execute(
        "SELECT id, rfc_message_id, subject FROM mail_outbound WHERE message_id = ?", (outbound.message_id,)
    ).fetchone()
    if out is None:
        rfc = message_id_for(mail, outbound.idempotency_key or f"message-{outbound.message_id}")
        out_id = int(db.execute(
            "INSERT INTO mail_outbound (message_id, conversation_id, rfc_message_id, subject, automatic, "
            "created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, NULL) RETURNING id",
            (outbound.message_id, conv_id, rfc, subject, int(automatic), sqlite_text(now)),
        ).fetchone()[0])
        out_subject = subject
    else:
        out_id, rfc, out_subject = int(out[0]), str(out[1]), str(out[2] or "")
    recipients = _recipients(db, out_id)
    if not recipients:
        participants = [str(a) for (a,) in db.execute(
            "SELECT address FROM mail_participants WHERE conversation_id = ? AND role = 'cc' ORDER BY id",
            (conv_id,),
        )]
        db.executemany(
            "INSERT INTO mail_recipients (outbound_id, address, kind, state, detail, updated_at) "
            "VALUES (?, ?, ?, ?, '', ?)",
            [(out_id, a, kind, QUEUED, sqlite_text(now))
             for a, kind in cc_wanted(mail, customer, participants)],
        )
        recipients = _recipients(db, out_id)
    blocked = _suppressed(db, list(recipients))
    for address, reason in blocked.items():
        found = recipients.get(address)
        if found is not None and found[1] == QUEUED:
            db.execute(
                "UPDATE mail_recipients SET state = ?, detail = ?, updated_at = ? WHERE id = ?",
                (SUPPRESSED, reason, sqlite_text(now), found[2]),
            )
            hot.forget(MailRecipient, found[2])
            recipients[address] = (found[0], SUPPRESSED, found[2])
    # a machine's mail (the bot's, a survey) never goes to a machine; only the bot's
    # answers count against the loop guard's caps (a survey answers no mail: it cannot loop)
    machine = auto_submitted(outbound.author) is not None
    withheld = withheld_before_guard(mail, customer, blocked, machine)
    if withheld is None and automatic:
        withheld = _allow_automatic(db, mail, outbound.message_id, customer, conv_id, now)
    parent, references = _thread_ids(db, conv_id, out_id)
    return OutboundPlan(
        rfc_message_id=rfc,
        from_address=mail.own.primary,
        from_name=mail.cfg.from_name,
        reply_to=mail.own.with_token(token),
        to=customer,
        pending=tuple(a for a, r in recipients.items() if r[1] == QUEUED),
        subject=out_subject or subject,
        in_reply_to=parent,
        references=references,
        automatic=automatic,
        auto_submitted=auto_submitted(outbound.author),
        lang=conv[0] or "en",
        quoted=_quoted(db, conv_id, outbound.message_id) if mail.cfg.quote_history else None,
        withheld=withheld,
        kinds={a: r[0] for a, r in recipients.items()},
    )


async def record(tx: Tx, hot: HotSql, rfc_message_id: str, outcomes: dict[str, tuple[str, str]]) -> None:
    """Each recipient's outcome, as :func:`gateway.mail.outbound.record`."""
    db = await hot.db()
    now = sqlite_text(tx.now())
    row = db.execute("SELECT id FROM mail_outbound WHERE rfc_message_id = ?", (rfc_message_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no outbound mail {rfc_message_id}")
    out_id = int(row[0])
    for address, rec_id in db.execute(
        "SELECT address, id FROM mail_recipients WHERE outbound_id = ?", (out_id,)
    ).fetchall():
        if address in outcomes:
            state, detail = outcomes[address]
            db.execute(
                "UPDATE mail_recipients SET state = ?, detail = ?, updated_at = ? WHERE id = ?",
                (state, detail[:2000], now, rec_id),
            )
            hot.forget(MailRecipient, rec_id)
    if any(state == SENT for state, _ in outcomes.values()):
        db.execute("UPDATE mail_outbound SET sent_at = ? WHERE id = ?", (now, out_id))
        hot.forget(MailOutbound, out_id)


def _recipients(db: sqlite3.Connection, out_id: int) -> dict[str, tuple[str, str, int]]:
    """address -> (kind, state, id), in the order they were added."""
    return {
        str(a): (str(k), str(s), int(i))
        for a, k, s, i in db.execute(
            "SELECT address, kind, state, id FROM mail_recipients WHERE outbound_id = ? ORDER BY id",
            (out_id,),
        )
    }


def _suppressed(db: sqlite3.Connection, addresses: list[str]) -> dict[str, str]:
    wanted = [normalise(a) for a in addresses if a]
    if not wanted:
        return {}
    rows = db.execute(
        "SELECT address, reason FROM mail_suppressions WHERE address IN (SELECT value FROM json_each(?))",
        (json.dumps(wanted),),
    )
    return {str(a): str(r) for a, r in rows}


def _allow_automatic(
    db: sqlite3.Connection, mail: MailService, message_id: int, address: str, conv_id: int, now: datetime
) -> str | None:
    """:func:`gateway.mail.guard.allow_automatic`: a retry of the same message is
    allowed without counting twice; else the two caps, then one more counted."""
    addr, cfg = normalise(address), mail.cfg
    if db.execute("SELECT 1 FROM mail_auto_sends WHERE message_id = ?", (message_id,)).fetchone():
        return None
    (per_sender,) = db.execute(
        "SELECT count(*) FROM mail_auto_sends WHERE address = ? AND sent_at > ?",
        (addr, sqlite_text(now - timedelta(hours=24))),
    ).fetchone()
    if per_sender >= cfg.auto_replies_per_sender_per_day:
        return guard.sender_capped(addr, per_sender, cfg)
    (per_conv,) = db.execute(
        "SELECT count(*) FROM mail_auto_sends WHERE conversation_id = ? AND sent_at > ?",
        (conv_id, sqlite_text(now - timedelta(hours=1))),
    ).fetchone()
    if per_conv >= cfg.automated_per_conversation_per_hour:
        return guard.conversation_capped(per_conv, cfg)
    db.execute(
        "INSERT INTO mail_auto_sends (message_id, address, conversation_id, sent_at) VALUES (?, ?, ?, ?)",
        (message_id, addr, conv_id, sqlite_text(now)),
    )
    return None


def _thread_ids(db: sqlite3.Connection, conv_id: int, out_id: int) -> tuple[str | None, tuple[str, ...]]:
    last = db.execute(
        "SELECT message_id, details FROM mail_inbound WHERE conversation_id = ? AND status = 'processed' "
        "AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        (conv_id,),
    ).fetchone()
    ours = [str(m) for (m,) in db.execute(
        "SELECT rfc_message_id FROM mail_outbound WHERE conversation_id = ? AND id < ? "
        "ORDER BY id DESC LIMIT 5",
        (conv_id, out_id),
    )]
    if last is None or not last[0]:
        return thread_ids(None, ours)
    details = json.loads(last[1]) if isinstance(last[1], str) and last[1] else (last[1] or {})
    return thread_ids((str(last[0]), list(details.get("references", []))), ours)


def _quoted(db: sqlite3.Connection, conv_id: int, message_id: int) -> QuotedMail | None:
    row = db.execute(
        "SELECT author_name, created_at, text FROM messages WHERE conversation_id = ? AND direction = 'in' "
        "AND kind = 'message' AND id < ? ORDER BY id DESC LIMIT 1",
        (conv_id, message_id),
    ).fetchone()
    if row is None:
        return None
    return QuotedMail(row[0] or "you", _dt(row[1]), row[2])
