"""One unit of work on the store: the operations the core composes inside a
single transaction.  Events collected with :meth:`Tx.emit` are published only
after the transaction committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.db.tables import Conversation, Customer, IdentityRow, Job, Message, Ticket, User
from gateway.errors import NotFoundError
from gateway.models import (
    AuthorKind,
    ConversationState,
    Identity,
    MessageKind,
    QuickReply,
    TicketStatus,
)
from gateway.protocols import Event
from gateway.views import ConversationView, MessageView, TicketView


class Tx:
    def __init__(self, session: AsyncSession, clock: Clock, settings: Settings) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.events: list[Event] = []
        self.jobs_added = 0

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

    # ----------------------------------------------------------- conversations
    async def latest_conversation(self, channel: str, thread_key: str) -> Conversation | None:
        stmt = (
            select(Conversation)
            .where(Conversation.channel == channel, Conversation.thread_key == thread_key)
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

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
        outbound_visible = direction == "out" and kind is MessageKind.MESSAGE
        msg = Message(
            conversation_id=conv.id,
            channel=conv.channel,
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
            delivery="queued" if outbound_visible else None,
            created_at=created_at or self.now(),
        )
        self.session.add(msg)
        conv.updated_at = self.now()
        await self.session.flush()
        if outbound_visible:
            self.enqueue("send", {"message_id": msg.id})
        self.emit(
            "message.created",
            {"conversation_id": conv.id, "message": message_view(msg).to_operator()},
        )
        return msg

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
                Ticket.status != TicketStatus.RESOLVED.value,
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
    def enqueue(self, kind: str, payload: dict[str, Any], *, delay: float = 0.0) -> None:
        now = self.now()
        self.session.add(
            Job(
                kind=kind,
                payload=payload,
                status="queued",
                attempts=0,
                max_attempts=self.settings.jobs.max_attempts,
                run_at=now + timedelta(seconds=delay),
                created_at=now,
                updated_at=now,
            )
        )
        self.jobs_added += 1


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
