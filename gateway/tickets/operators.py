"""Operators' actions on the SQL store (implements ``OperatorService``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from gateway.db.tables import Conversation, Ticket
from gateway.errors import ConflictError, InvalidInputError
from gateway.flow import replies
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx, message_view
from gateway.models import AuthorKind, ConversationState, MessageKind, TicketStatus
from gateway.tickets import history, hooks, lifecycle, sla_clock
from gateway.views import ConversationView, MessageView, TicketView, UserView

MAX_TEXT = 10_000


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInputError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"text is longer than {MAX_TEXT} characters")
    return text


def _name(user: UserView) -> str:
    return user.display_name or user.name


class SqlOperatorService:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def list_tickets(
        self,
        statuses: Sequence[TicketStatus] = (TicketStatus.NEW, TicketStatus.OPEN),
        queue: str | None = None,
    ) -> list[TicketView]:
        async with self.store.read() as tx:
            stmt = select(Ticket).where(Ticket.status.in_([s.value for s in statuses]))
            if queue:
                stmt = stmt.where(Ticket.queue == queue)
            rows = (await tx.session.execute(stmt.order_by(Ticket.created_at, Ticket.id))).scalars()
            return [await tx.ticket_view(t) for t in rows]

    async def get_ticket(self, ticket_id: int) -> TicketView:
        async with self.store.read() as tx:
            return await tx.ticket_view(await tx.ticket(ticket_id))

    async def get_conversation(self, conversation_id: int) -> ConversationView:
        async with self.store.read() as tx:
            return await tx.conversation_view(await tx.conversation(conversation_id))

    async def messages(self, conversation_id: int, *, include_internal: bool = True) -> list[MessageView]:
        async with self.store.read() as tx:
            await tx.conversation(conversation_id)
            msgs = await tx.messages(conversation_id, include_internal=include_internal)
            return [message_view(m) for m in msgs]

    async def take_over(self, ticket_id: int, user: UserView) -> TicketView:
        async with self.store.tx() as tx:
            ticket, conv = await self._locked_ticket(tx, ticket_id)
            await self._take(tx, ticket, conv, user)
            return await tx.ticket_view(ticket)

    @staticmethod
    async def _locked_ticket(tx: Tx, ticket_id: int) -> tuple[Ticket, Conversation]:
        """The ticket and its conversation, under the conversation's lock, read afresh."""
        ticket = await tx.ticket(ticket_id)
        conv = await tx.lock_conversation(ticket.conversation_id)
        await tx.session.refresh(ticket)
        return ticket, conv

    async def _take(self, tx: Tx, ticket: Ticket, conv: Conversation, user: UserView) -> None:
        status = TicketStatus(ticket.status)
        if status in lifecycle.DONE:
            raise ConflictError(f"ticket {ticket.number} is {lifecycle.LABELS[status]}")
        if ticket.assignee_id == user.id and status is not TicketStatus.NEW:
            return
        if ticket.assignee_id not in (None, user.id):
            raise ConflictError(f"ticket {ticket.number} is already taken by another operator")
        await hooks.on_ticket_created(tx, ticket, conv)  # if the core did not call it
        before = {"assignee_id": ticket.assignee_id, "status": ticket.status}
        ticket.assignee_id = user.id
        if status is TicketStatus.NEW:
            await lifecycle.transition(tx, ticket, conv, TicketStatus.OPEN, actor_id=user.id, announce=False)
        else:
            await lifecycle.sync_conversation(tx, conv, ticket)
        ticket.updated_at = tx.now()
        await history_record(tx, ticket, before, user)
        await tx.add_event(conv, f"{_name(user)} took over ticket {ticket.number}.")
        await sla_clock.refresh(tx, ticket)
        await tx.emit_ticket("ticket.updated", ticket)

    async def reply(self, conversation_id: int, user: UserView, text: str) -> MessageView:
        view = await self.reply_once(conversation_id, user, text)
        assert view is not None  # no external id: always stored
        return view

    async def reply_once(
        self, conversation_id: int, user: UserView, text: str,
        *, external_id: str | None = None, meta: dict[str, Any] | None = None,
    ) -> MessageView | None:
        """A customer-visible reply: the operator takes the ticket (a conflict if
        someone else owns it; a ticket is opened if there is none).  With an
        ``external_id`` (a reply written in another tool, e.g. a Slack message) it
        is stored once: None when that id is stored already (a retried delivery)."""
        text = _clean(text)
        async with self.store.tx(fast=True) as tx:
            conv = await tx.lock_conversation(conversation_id)
            if external_id is not None and await tx.find_external(conv.channel, external_id) is not None:
                return None
            ticket = await active_ticket(tx, conv.id)
            if ticket is None:
                ticket = await tx.open_ticket(conv, subject="(opened by an operator)", reason="operator")
                await hooks.on_ticket_created(tx, ticket, conv)
                await tx.emit_ticket("ticket.created", ticket)
            await self._take(tx, ticket, conv, user)
            msg = await tx.add_message(
                conv,
                direction="out",
                author=AuthorKind.OPERATOR,
                text=text,
                author_id=user.id,
                author_name=_name(user),
                external_id=external_id,
                meta=meta,
            )
            first = ticket.first_response_at is None
            await hooks.on_human_reply(tx, ticket, msg)  # first / next response clocks
            if first:
                ticket.updated_at = tx.now()
                await tx.emit_ticket("ticket.updated", ticket)
            return message_view(msg)

    async def add_note(self, conversation_id: int, user: UserView, text: str) -> MessageView:
        view = await self.note_once(conversation_id, user, text)
        assert view is not None  # no external id: always stored
        return view

    async def note_once(
        self, conversation_id: int, user: UserView, text: str,
        *, external_id: str | None = None, meta: dict[str, Any] | None = None,
    ) -> MessageView | None:
        """An internal note (never sent to the customer); stored once per
        ``external_id`` as :meth:`reply_once`."""
        text = _clean(text)
        async with self.store.tx() as tx:
            conv = await tx.lock_conversation(conversation_id)
            if external_id is not None and await tx.find_external(conv.channel, external_id) is not None:
                return None
            msg = await tx.add_message(
                conv,
                direction="out",
                author=AuthorKind.OPERATOR,
                kind=MessageKind.NOTE,
                text=text,
                author_id=user.id,
                author_name=_name(user),
                external_id=external_id,
                meta=meta,
            )
            return message_view(msg)

    async def resolve(self, ticket_id: int, user: UserView) -> TicketView:
        async with self.store.tx(fast=True) as tx:
            ticket, conv = await self._locked_ticket(tx, ticket_id)
            if ticket.status in (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value):
                raise ConflictError(f"ticket {ticket.number} is already {ticket.status}")
            await self._close(tx, ticket, conv, user, ConversationState.RESOLVED)
            await tx.add_message(
                conv,
                direction="out",
                author=AuthorKind.BOT,
                text=replies.text("resolved", conv.lang or "en", number=ticket.number),
            )
            return await tx.ticket_view(ticket)

    async def hand_back(self, conversation_id: int, user: UserView) -> ConversationView:
        async with self.store.tx(fast=True) as tx:
            conv = await tx.lock_conversation(conversation_id)
            if conv.state == ConversationState.BOT.value:
                raise ConflictError("the bot already holds this conversation")
            ticket = await active_ticket(tx, conv.id)
            if ticket is not None:
                await self._close(tx, ticket, conv, user, ConversationState.BOT, verb="handed back")
            else:
                tx.set_state(conv, ConversationState.BOT)
            await tx.add_message(
                conv,
                direction="out",
                author=AuthorKind.BOT,
                text=replies.text("handback", conv.lang or "en"),
            )
            return await tx.conversation_view(conv)

    async def _close(
        self,
        tx: Tx,
        ticket: Ticket,
        conv: Conversation,
        user: UserView,
        state: ConversationState,
        verb: str = "resolved",
    ) -> None:
        if ticket.assignee_id is None:
            ticket.assignee_id = user.id
        await hooks.on_ticket_created(tx, ticket, conv)
        await lifecycle.transition(
            tx, ticket, conv, TicketStatus.RESOLVED, actor_id=user.id, reason=verb, announce=False
        )
        tx.set_state(conv, state)
        await tx.add_event(conv, f"{_name(user)} {verb} ticket {ticket.number}.")
        await sla_clock.refresh(tx, ticket)
        await tx.emit_ticket("ticket.updated", ticket)


async def history_record(tx: Tx, ticket: Ticket, before: dict[str, Any], user: UserView) -> None:
    after = {"assignee_id": ticket.assignee_id, "status": ticket.status}
    await history.record(tx, ticket, "assign", dict(before), after, actor_id=user.id, reason="took over")


async def active_ticket(tx: Tx, conversation_id: int) -> Ticket | None:
    """The conversation's ticket still being worked on (not resolved, not closed).
    (``Tx.active_ticket`` counts a closed ticket as active.)"""
    stmt = (
        select(Ticket)
        .where(
            Ticket.conversation_id == conversation_id,
            Ticket.status.in_([s.value for s in lifecycle.ACTIVE]),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return (await tx.session.execute(stmt)).scalar_one_or_none()
