"""The statements every message runs, as plain SQL on SQLite's own connection.

Measured (``python -m bench.perf.sql_cost``): one statement through the ORM costs
about 0.5 ms of Python, the same statement on the driver 0.006 ms; a message that
is accepted, answered and delivered runs some twenty of them.  So on SQLite the
normal path of a message — its accept, the bot's answer to a conversation's first
message, the delivery's "sent" and each job's completion — runs here, inside the
same write transaction, with the same checks and the same lease fences as the ORM
path it stands for (:class:`gateway.flow.tx.Tx`), which every other case still
takes (and PostgreSQL always).

The rows written here may be cached by the ORM session that the group commit
shares between the units of a batch: a row updated here is dropped from that
session's identity map (``forget``), so a later unit reads it afresh.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from gateway.db.rows import build
from gateway.db.tables import Base, Conversation, IdentityRow, Job, Message
from gateway.db.types import sqlite_text
from gateway.flow import job_queue
from gateway.flow.group_commit import sqlite_connection
from gateway.flow.job_queue import JobView, LeaseLost
from gateway.models import (
    AcceptResult,
    AuthorKind,
    ConversationState,
    DeliveryStatus,
    Identity,
    Inbound,
    MessageKind,
    Outbound,
    QuickReply,
)

if TYPE_CHECKING:
    from gateway.flow.tx import Tx

IntegrityError = sqlite3.IntegrityError  # a redelivery's unique external id, as the ORM path's


@dataclass(frozen=True, slots=True)
class FreshMessage:
    """A new conversation's first message as its accept stored it: handed to the
    route job on the fast path, which then reads nothing before deciding."""

    message: Message
    conversation: Conversation
    identity: IdentityRow


def _json(value: Any) -> str:
    return json.dumps(value)


class HotSql:
    """Plain-SQL versions of :class:`~gateway.flow.tx.Tx` operations, for one
    SQLite write transaction (a group-commit unit)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._db: sqlite3.Connection | None = None

    async def db(self) -> sqlite3.Connection:
        """The sqlite3 connection of this transaction (the group commit's units of
        a batch share one)."""
        if self._db is None:
            self._db = await sqlite_connection(self.session)
        return self._db

    def forget(self, model: type[Base], key: Any) -> None:
        """Drop a row this transaction changed in plain SQL from the shared
        session's cache (a later unit of the batch then reads it afresh)."""
        obj = self.session.identity_map.get(identity_key(model, key))
        if obj is not None:
            self.session.expunge(obj)

    # ------------------------------------------------------------------ accept
    async def accept(self, tx: Tx, inbound: Inbound, meta: dict[str, Any], lang: str) -> AcceptResult:
        """``SqlStore._accept`` in plain SQL: identity, conversation (opened, or
        reopened if resolved), the message and its route job; the job is claimed for
        the fast path, and a new conversation's first message handed to it."""
        db = await self.db()
        now = tx.now()
        who = inbound.sender
        row = db.execute(
            "SELECT id, customer_id, display_name FROM identities WHERE channel = ? AND address = ?",
            (who.channel, who.address),
        ).fetchone()
        if row is None:
            customer_id = db.execute(
                "INSERT INTO customers (display_name, lang, created_at) VALUES (?, '', ?) RETURNING id",
                (who.display_name, sqlite_text(now)),
            ).fetchone()[0]
            identity_id = db.execute(
                "INSERT INTO identities (customer_id, channel, address, display_name) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (customer_id, who.channel, who.address, who.display_name),
            ).fetchone()[0]
            name = who.display_name
        else:
            identity_id, customer_id, name = row
            if who.display_name and name != who.display_name:
                name = who.display_name
                db.execute("UPDATE identities SET display_name = ? WHERE id = ?", (name, identity_id))
                self.forget(IdentityRow, identity_id)
        conv_row = db.execute(
            "SELECT id, customer_id, identity_id, state, lang FROM conversations "
            "WHERE channel = ? AND thread_key = ? ORDER BY id DESC LIMIT 1",
            (inbound.channel, inbound.thread_key),
        ).fetchone()
        fresh = conv_row is None
        if conv_row is None:
            state = ConversationState.BOT.value
            conv_id = db.execute(
                "INSERT INTO conversations (customer_id, identity_id, channel, thread_key, state, lang, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (customer_id, identity_id, inbound.channel, inbound.thread_key, state, lang,
                 sqlite_text(now), sqlite_text(now)),
            ).fetchone()[0]
            conv_customer, conv_identity = customer_id, identity_id
        else:
            conv_id, conv_customer, conv_identity, state, lang = conv_row
            if state == ConversationState.RESOLVED.value:  # a new message reopens it
                state = ConversationState.BOT.value
                db.execute(
                    "UPDATE conversations SET state = ?, assignee_id = NULL, updated_at = ? WHERE id = ?",
                    (state, sqlite_text(now), conv_id),
                )
            else:
                db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                           (sqlite_text(now), conv_id))
            self.forget(Conversation, conv_id)
        msg = build(
            Message, conversation_id=conv_id, channel=inbound.channel, external_id=inbound.external_id,
            direction="in", author_kind=AuthorKind.CUSTOMER.value, author_id=None,
            author_name=who.display_name, kind=MessageKind.MESSAGE.value, text=inbound.text,
            html=inbound.html, quick_replies=[], meta=meta, delivery=None, outbound_key=None,
            created_at=inbound.received_at,
        )
        msg.id = self._insert_message(db, msg)
        tx.emit_message_created(msg)
        job = await self.enqueue(tx, "route", {"message_id": msg.id, "conversation_id": conv_id})
        if fresh:  # the router needs read nothing: no history, no earlier message
            conv = build(
                Conversation, id=conv_id, customer_id=conv_customer, identity_id=conv_identity,
                channel=inbound.channel, thread_key=inbound.thread_key, state=state, lang=lang,
                assignee_id=None, created_at=now, updated_at=now,
            )
            ident = build(IdentityRow, id=identity_id, customer_id=customer_id, channel=who.channel,
                                address=who.address, display_name=name)
            tx.prepare(job, FreshMessage(msg, conv, ident))
        return AcceptResult(msg.id, conv_id, duplicate=False)

    @staticmethod
    def _insert_message(db: sqlite3.Connection, msg: Message) -> int:
        return int(db.execute(
            "INSERT INTO messages (conversation_id, channel, external_id, direction, author_kind, "
            "author_id, author_name, kind, text, html, quick_replies, meta, delivery, outbound_key, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (msg.conversation_id, msg.channel, msg.external_id, msg.direction, msg.author_kind,
             msg.author_id, msg.author_name, msg.kind, msg.text, msg.html, _json(msg.quick_replies),
             _json(msg.meta), msg.delivery, msg.outbound_key, sqlite_text(msg.created_at)),
        ).fetchone()[0])

    async def enqueue(self, tx: Tx, kind: str, payload: dict[str, Any]) -> Job:
        """``Tx.enqueue`` (no delay) in plain SQL; the row stands as a detached ``Job``."""
        job = tx.new_job(kind, payload)
        db = await self.db()
        job.id = int(db.execute(
            "INSERT INTO jobs (kind, payload, conversation_id, status, attempts, max_attempts, run_at, "
            "locked_until, locked_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (job.kind, _json(job.payload), job.conversation_id, job.status, job.attempts,
             job.max_attempts, sqlite_text(job.run_at),
             sqlite_text(job.locked_until) if job.locked_until else None,
             job.locked_by, sqlite_text(job.created_at), sqlite_text(job.updated_at)),
        ).fetchone()[0])
        tx.track_job(job)
        return job

    # ----------------------------------------------------------------- answer
    async def answer_first(
        self, tx: Tx, job: JobView, fresh: FreshMessage, routed: dict[str, Any], reply: Message,
    ) -> None:
        """The bot's answer to a new conversation's first message (``Router._apply``
        for an answer): checked again under the write lock — not routed yet, the
        conversation still the bot's — then the message marked routed, the reply
        stored and put in the outbox, the route job completed.  When the checks
        find the message routed already, only the job is completed; when an
        operator holds the conversation, the message is marked as skipped."""
        db = await self.db()
        conv_id, msg_id = fresh.conversation.id, fresh.message.id
        (state,) = db.execute("SELECT state FROM conversations WHERE id = ?", (conv_id,)).fetchone()
        (meta_json,) = db.execute("SELECT meta FROM messages WHERE id = ?", (msg_id,)).fetchone()
        meta = json.loads(meta_json or "{}")
        if not meta.get("routed"):
            handled = state in (ConversationState.PENDING.value, ConversationState.OPERATOR.value)
            info = {"action": "none", "reason": "operator_took_over"} if handled else routed
            db.execute("UPDATE messages SET meta = ? WHERE id = ?",
                       (_json({**meta, "routed": True, **info}), msg_id))
            self.forget(Message, msg_id)
            if not handled:
                await self.add_reply(tx, fresh, reply)
        await self.complete_job(tx, job)

    async def add_reply(self, tx: Tx, fresh: FreshMessage, msg: Message) -> None:
        """A customer-visible reply to a fresh conversation, with its send job
        claimed for the fast path and its ``Outbound`` prepared."""
        db = await self.db()
        conv, ident = fresh.conversation, fresh.identity
        msg.id = self._insert_message(db, msg)
        db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (sqlite_text(tx.now()), conv.id))
        self.forget(Conversation, conv.id)
        job = await self.enqueue(tx, "send", {"message_id": msg.id, "conversation_id": conv.id})
        tx.prepare(job, Outbound(
            message_id=msg.id, conversation_id=conv.id, channel=conv.channel, thread_key=conv.thread_key,
            recipient=Identity(ident.channel, ident.address, ident.display_name), text=msg.text,
            author=AuthorKind(msg.author_kind), author_name=msg.author_name, html=msg.html,
            quick_replies=tuple(QuickReply(q["id"], q["label"]) for q in msg.quick_replies),
            created_at=msg.created_at, meta=dict(msg.meta), idempotency_key=msg.outbound_key or "",
        ))
        tx.emit_message_created(msg)

    # --------------------------------------------------------------- delivery
    async def mark_sent(self, message_id: int) -> None:
        db = await self.db()
        db.execute("UPDATE messages SET delivery = ? WHERE id = ?", (DeliveryStatus.SENT.value, message_id))
        self.forget(Message, message_id)

    async def complete_job(self, tx: Tx, job: JobView) -> None:
        """``job_queue.complete``: done, fenced by the lease token, else :class:`LeaseLost`."""
        db = await self.db()
        cur = db.execute(
            "UPDATE jobs SET status = ?, locked_until = NULL, updated_at = ? "
            "WHERE id = ? AND locked_by = ? AND status = ?",
            (job_queue.DONE, sqlite_text(tx.now()), job.id, job.lock, job_queue.RUNNING),
        )
        if cur.rowcount != 1:
            raise LeaseLost(f"job {job.id} ({job.kind}): lease {job.lock} no longer held")
        self.forget(Job, job.id)
        job.completed = True
