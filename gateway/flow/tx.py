"""One unit of work on the store: the operations the core composes inside a
single transaction.  Events collected with :meth:`Tx.emit` are published only
after the transaction committed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.db.rows import build
from gateway.db.tables import Conversation, Customer, IdentityRow, Job, Message, Ticket, User
from gateway.errors import NotFoundError
from gateway.flow import job_queue
from gateway.flow.hot_sql import HotSql
from gateway.flow.job_queue import JobView
from gateway.models import (
    AcceptResult,
    AuthorKind,
    ConversationState,
    DeliveryStatus,
    Identity,
    MessageKind,
    Outbound,
    QuickReply,
    TicketStatus,
)
from gateway.protocols import Event
from gateway.views import ConversationView, MessageView, TicketView


class Tx:
    def __init__(
        self, session: AsyncSession, clock: Clock, settings: Settings, *, fast_path: bool = False
    ) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.events: list[Event] = []
        self.jobs_added = 0
        # Fast path: jobs enqueued here are claimed by this process in the same
        # transaction and run right after the commit (``claimed``); their rows
        # stay the net a crash resumes from once the lease expires.
        self.fast_path = fast_path
        self.claimed: list[tuple[Job, JobView]] = []
        # The customer message the bot is answering in this transaction: its
        # replies carry it as meta["reply_to"] (one answer per message, checkable).
        self.reply_to: int | None = None
        # Identities already known to the caller (by conversation id): not read again.
        self.recipients: dict[int, IdentityRow] = {}
        # SQLite: the normal path's statements as plain SQL (set by the store).
        self.hot: HotSql | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, topic: str, data: dict[str, Any]) -> None:
        self.events.append(Event(topic, data))

    # --------------------------------------------------------------- customers
    async def identity_for(self, who: Identity) -> IdentityRow:
        row = (
            await self.session.execute(
                select(IdentityRow).where(
                    IdentityRow.channel == who.channel, IdentityRow.address == who.address
                )
            )
        ).scalar_one_or_none()
        if row is None:
            customer = Customer(display_name=who.display_name, created_at=self.now())
            self.session.add(customer)
            await self.session.flush()
            row = IdentityRow(
                customer_id=customer.id,
                channel=who.channel,
                address=who.address,
                display_name=who.display_name,
            )
            self.session.add(row)
            await self.session.flush()
        elif who.display_name and row.display_name != who.display_name:
            row.display_name = who.display_name
        return row

    async def find_external(self, channel: str, external_id: str) -> AcceptResult | None:
        """A message already stored under this channel's id (a redelivery)."""
        row = (
            await self.session.execute(
                select(Message.id, Message.conversation_id).where(
                    Message.channel == channel, Message.external_id == external_id
                )
            )
        ).first()
        return AcceptResult(row[0], row[1], duplicate=True) if row else None

    # ----------------------------------------------------------- conversations
    async def lock_thread(self, channel: str, thread_key: str) -> None:
        """Serialise the opening of a conversation on one thread: a transaction-scoped
        advisory lock on PostgreSQL (SQLite's write transaction is already alone)."""
        bind = self.session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            key = f"{channel}\x1f{thread_key}"
            await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})

    async def latest_conversation(self, channel: str, thread_key: str) -> Conversation | None:
        stmt = (
            select(Conversation)
            .where(Conversation.channel == channel, Conversation.thread_key == thread_key)
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock_conversation(self, conversation_id: int) -> Conversation:
        """The conversation, locked for the rest of this transaction and read afresh:
        ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the write transaction
        (``BEGIN IMMEDIATE``) already holds the database's write lock."""
        stmt = (
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        conv = (await self.session.execute(stmt)).scalar_one_or_none()
        if conv is None:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return conv

    async def conversation(self, conversation_id: int) -> Conversation:
        conv = await self.session.get(Conversation, conversation_id)
        if conv is None:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return conv

    async def open_conversation(
        self, identity: IdentityRow, channel: str, thread_key: str, lang: str
    ) -> Conversation:
        now = self.now()
        conv = Conversation(
            customer_id=identity.customer_id,
            identity_id=identity.id,
            channel=channel,
            thread_key=thread_key,
            state=ConversationState.BOT.value,
            lang=lang,
            created_at=now,
            updated_at=now,
        )
        self.session.add(conv)
        await self.session.flush()
        return conv

    async def recipient(self, conv: Conversation) -> IdentityRow:
        known = self.recipients.get(conv.id)
        if known is not None and known.id == conv.identity_id:
            return known
        row = await self.session.get(IdentityRow, conv.identity_id)
        if row is None:
            raise NotFoundError(f"identity of conversation {conv.id} not found")
        return row

    def set_state(self, conv: Conversation, state: ConversationState, assignee: int | None = None) -> None:
        conv.state = state.value
        conv.assignee_id = assignee
        conv.updated_at = self.now()

    # ---------------------------------------------------------------- messages
    async def add_message(
        self,
        conv: Conversation,
        *,
        direction: str,
        author: AuthorKind,
        text: str,
        kind: MessageKind = MessageKind.MESSAGE,
        author_id: int | None = None,
        author_name: str = "",
        external_id: str | None = None,
        html: str | None = None,
        quick_replies: Sequence[QuickReply] = (),
        meta: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """Store a message.  A customer-visible outbound message is put in the
        outbox (a durable ``send`` job) in the same transaction."""
        msg = self.new_message(
            conv.id, conv.channel, direction=direction, author=author, text=text, kind=kind,
            author_id=author_id, author_name=author_name, external_id=external_id, html=html,
            quick_replies=quick_replies, meta=meta, created_at=created_at,
        )
        self.session.add(msg)
        conv.updated_at = self.now()
        await self.session.flush()
        if msg.outbound_key is not None:  # customer-visible: into the outbox
            job = self.enqueue("send", {"message_id": msg.id, "conversation_id": conv.id})
            if self.fast_path:
                self.prepare(job, await self.outbound(conv, msg))
        self.emit_message_created(msg)
        return msg

    def new_message(
        self,
        conversation_id: int,
        channel: str,
        *,
        direction: str,
        author: AuthorKind,
        text: str,
        kind: MessageKind = MessageKind.MESSAGE,
        author_id: int | None = None,
        author_name: str = "",
        external_id: str | None = None,
        html: str | None = None,
        quick_replies: Sequence[QuickReply] = (),
        meta: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """A message row not stored yet.  A customer-visible outbound one gets its
        delivery state and its idempotency key; the bot's carries ``reply_to``."""
        outbound_visible = direction == "out" and kind is MessageKind.MESSAGE
        if outbound_visible and author is AuthorKind.BOT and self.reply_to is not None:
            meta = {"reply_to": self.reply_to, **(meta or {})}
        return build(
            Message,
            conversation_id=conversation_id,
            channel=channel,
            external_id=external_id,
            direction=direction,
            author_kind=author.value,
            author_id=author_id,
            author_name=author_name,
            kind=kind.value,
            text=text,
            html=html,
            quick_replies=[{"id": q.id, "label": q.label} for q in quick_replies],
            meta=dict(meta or {}),
            delivery=self._first_delivery() if outbound_visible else None,
            outbound_key=uuid.uuid4().hex if outbound_visible else None,
            created_at=created_at or self.now(),
        )

    def emit_message_created(self, msg: Message) -> None:
        self.emit(
            "message.created",
            {"conversation_id": msg.conversation_id, "message": message_view(msg).to_operator()},
        )

    def _first_delivery(self) -> str:
        # On the fast path this process sends it right after the commit.
        return (DeliveryStatus.SENDING if self.fast_path else DeliveryStatus.QUEUED).value

    async def mark_sent(self, conversation_id: int, message_id: int) -> None:
        """A fresh message delivered with nothing to note: one UPDATE, no read."""
        if self.hot is not None:
            await self.hot.mark_sent(message_id)
        else:
            await self.session.execute(
                update(Message).where(Message.id == message_id).values(delivery=DeliveryStatus.SENT.value)
            )
        message = {"id": message_id, "delivery": DeliveryStatus.SENT.value, "meta": {}}
        self.emit("message.updated", {"conversation_id": conversation_id, "message": message})

    async def add_event(self, conv: Conversation, text: str) -> Message:
        """A system event line for operators ("taken over by …"); never sent to the customer."""
        return await self.add_message(
            conv, direction="out", author=AuthorKind.SYSTEM, kind=MessageKind.EVENT, text=text
        )

    async def message(self, message_id: int) -> Message:
        msg = await self.session.get(Message, message_id)
        if msg is None:
            raise NotFoundError(f"message {message_id} not found")
        return msg

    async def job_message(self, payload: dict[str, Any]) -> Message | None:
        """The message a job's payload names, or None if it names none or it is gone."""
        message_id = payload.get("message_id")
        if not isinstance(message_id, int):
            return None
        return await self.session.get(Message, message_id)

    async def messages(self, conversation_id: int, *, include_internal: bool) -> list[Message]:
        stmt = select(Message).where(Message.conversation_id == conversation_id)
        if not include_internal:
            stmt = stmt.where(Message.kind == MessageKind.MESSAGE.value)
        return list((await self.session.execute(stmt.order_by(Message.id))).scalars())

    # ----------------------------------------------------------------- tickets
    async def active_ticket(self, conversation_id: int) -> Ticket | None:
        stmt = (
            select(Ticket)
            .where(
                Ticket.conversation_id == conversation_id,
                Ticket.status.notin_((TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)),
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def ticket(self, ticket_id: int) -> Ticket:
        ticket = await self.session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFoundError(f"ticket {ticket_id} not found")
        return ticket

    async def open_ticket(self, conv: Conversation, *, subject: str, reason: str) -> Ticket:
        now = self.now()
        cfg = self.settings.handoff
        ticket = Ticket(
            conversation_id=conv.id,
            status=TicketStatus.NEW.value,
            queue=cfg.queue,
            subject=subject[:300],
            handoff_reason=reason,
            created_at=now,
            updated_at=now,
            first_response_due=now + timedelta(minutes=cfg.first_response_minutes),
        )
        self.session.add(ticket)
        await self.session.flush()
        ticket.number = f"{cfg.ticket_prefix}-{1000 + ticket.id}"
        await self.session.flush()
        return ticket

    async def ticket_view(self, ticket: Ticket) -> TicketView:
        conv = await self.conversation(ticket.conversation_id)
        ident = await self.recipient(conv)
        assignee = await self.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
        return TicketView(
            id=ticket.id,
            number=ticket.number or "",
            conversation_id=ticket.conversation_id,
            status=TicketStatus(ticket.status),
            queue=ticket.queue,
            priority=ticket.priority,
            subject=ticket.subject,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            assignee_id=ticket.assignee_id,
            assignee_name=(assignee.display_name or assignee.name) if assignee else None,
            customer_name=ident.display_name or ident.address,
            channel=conv.channel,
            handoff_reason=ticket.handoff_reason,
            first_response_due=ticket.first_response_due,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
        )

    async def conversation_view(self, conv: Conversation) -> ConversationView:
        ident = await self.recipient(conv)
        ticket = await self.active_ticket(conv.id)
        if ticket is None:
            stmt = select(Ticket).where(Ticket.conversation_id == conv.id).order_by(Ticket.id.desc())
            ticket = (await self.session.execute(stmt.limit(1))).scalar_one_or_none()
        return ConversationView(
            id=conv.id,
            channel=conv.channel,
            thread_key=conv.thread_key,
            state=ConversationState(conv.state),
            customer_id=conv.customer_id,
            customer_name=ident.display_name or ident.address,
            customer_address=ident.address,
            lang=conv.lang,
            created_at=conv.created_at,
            updated_at=conv.updated_at,
            ticket=await self.ticket_view(ticket) if ticket else None,
            assignee_id=conv.assignee_id,
        )

    async def emit_ticket(self, topic: str, ticket: Ticket) -> TicketView:
        view = await self.ticket_view(ticket)
        self.emit(topic, {"ticket": view.to_dict()})
        return view

    # -------------------------------------------------------------------- jobs
    def enqueue(self, kind: str, payload: dict[str, Any], *, delay: float = 0.0) -> Job:
        """A durable job.  On the fast path (and with no delay) it is claimed by
        this process at once, under a lease like any claim."""
        job = self.new_job(kind, payload, delay=delay)
        self.session.add(job)
        self.track_job(job)
        return job

    def new_job(self, kind: str, payload: dict[str, Any], *, delay: float = 0.0) -> Job:
        """A job row not stored yet: claimed at once on the fast path with no delay."""
        now = self.now()
        claim = self.fast_path and delay <= 0
        conversation_id = payload.get("conversation_id")
        return build(
            Job,
            kind=kind,
            payload=payload,
            conversation_id=conversation_id if isinstance(conversation_id, int) else None,
            status=job_queue.RUNNING if claim else job_queue.QUEUED,
            attempts=1 if claim else 0,
            max_attempts=self.settings.jobs.max_attempts,
            run_at=now + timedelta(seconds=delay),
            locked_by=job_queue.new_token("fast") if claim else None,
            locked_until=now + timedelta(seconds=self.settings.jobs.lease_seconds) if claim else None,
            created_at=now,
            updated_at=now,
        )

    def track_job(self, job: Job) -> None:
        """A stored job: claimed by this transaction (run after commit) or one
        more for the workers to be woken for."""
        if job.status == job_queue.RUNNING:
            view = JobView(0, job.kind, job.payload, 1, job.max_attempts, job.locked_by or "")
            self.claimed.append((job, view))
        else:
            self.jobs_added += 1

    def prepare(self, job: Job, data: Any) -> None:
        """Hand ``data`` to the fast-path handler of ``job`` (if this transaction claimed it)."""
        for row, jv in self.claimed:
            if row is job:
                jv.prepared = data

    async def outbound(self, conv: Conversation, msg: Message) -> Outbound:
        """The message as its channel sends it."""
        ident = await self.recipient(conv)
        return Outbound(
            message_id=msg.id,
            conversation_id=conv.id,
            channel=conv.channel,
            thread_key=conv.thread_key,
            recipient=Identity(ident.channel, ident.address, ident.display_name),
            text=msg.text,
            author=AuthorKind(msg.author_kind),
            author_name=msg.author_name,
            html=msg.html,
            quick_replies=tuple(QuickReply(q["id"], q["label"]) for q in msg.quick_replies or ()),
            created_at=msg.created_at,
            meta=dict(msg.meta or {}),
            idempotency_key=msg.outbound_key or f"message-{msg.id}",
        )

    def claimed_jobs(self) -> list[JobView]:
        """The jobs this transaction claimed for the fast path (after its flush)."""
        out = []
        for job, jv in self.claimed:
            jv.id = job.id
            out.append(jv)
        return out

    async def earlier_job_pending(self, job: JobView, conversation_id: int) -> bool:
        """Whether an older job of the same kind on this conversation is still to
        run (queued or running): a conversation's messages go in arrival order."""
        stmt = (
            select(Job.id)
            .where(
                Job.conversation_id == conversation_id,
                Job.kind == job.kind,
                Job.id < job.id,
                Job.status.in_((job_queue.QUEUED, job_queue.RUNNING)),
            )
            .limit(1)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def complete_job(self, job: JobView) -> None:
        """Mark ``job`` done in this transaction, the one of its effects.  Raises
        :class:`~gateway.flow.job_queue.LeaseLost` (rolling everything back) when
        another worker holds the job now."""
        if self.hot is not None:
            await self.hot.complete_job(self, job)
        else:
            await job_queue.complete(self.session, job, self.now())


def message_view(msg: Message) -> MessageView:
    return MessageView(
        id=msg.id,
        conversation_id=msg.conversation_id,
        direction=msg.direction,
        author=AuthorKind(msg.author_kind),
        author_name=msg.author_name,
        kind=MessageKind(msg.kind),
        text=msg.text,
        created_at=msg.created_at,
        html=msg.html,
        quick_replies=tuple(QuickReply(q["id"], q["label"]) for q in msg.quick_replies or ()),
        meta=dict(msg.meta or {}),
        delivery=msg.delivery,
    )
