"""Operators' actions taken in Slack, on the core's operator service.

Take over and Resolve are the console's own actions
(:class:`gateway.tickets.operators.SqlOperatorService`: one owner per ticket, a
ticket taken by someone else is a conflict).  A reply or a note written in an
operators' thread is stored *once* under the Slack message's identity (its
external id ``slack-ops:CHANNEL:TS``), so a retried event never doubles it, and
carries ``meta["via"] = "slack"`` so it is not mirrored back into the thread.
"""

from __future__ import annotations

from gateway.errors import InvalidInputError
from gateway.flow.tx import Tx, message_view
from gateway.models import AuthorKind, MessageKind
from gateway.tickets import hooks
from gateway.tickets.operators import MAX_TEXT, SqlOperatorService, active_ticket
from gateway.views import MessageView, UserView

VIA = "slack"


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInputError("the message is empty")
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"the message is longer than {MAX_TEXT} characters")
    return text


def _name(user: UserView) -> str:
    return user.display_name or user.name


class SlackDeskActions(SqlOperatorService):
    """The operator service plus idempotent replies and notes from Slack."""

    async def reply_once(
        self, conversation_id: int, user: UserView, text: str, external_id: str
    ) -> MessageView | None:
        """A customer-visible reply (as the console's ``reply``: the operator takes
        the ticket, a conflict if someone else owns it); None if already stored."""
        text = _clean(text)
        async with self.store.tx(fast=True) as tx:
            conv = await tx.lock_conversation(conversation_id)
            if await _stored(tx, conv.channel, external_id):
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
                meta={"via": VIA},
            )
            first = ticket.first_response_at is None
            await hooks.on_human_reply(tx, ticket, msg)
            if first:
                ticket.updated_at = tx.now()
                await tx.emit_ticket("ticket.updated", ticket)
            return message_view(msg)

    async def note_once(
        self, conversation_id: int, user: UserView, text: str, external_id: str
    ) -> MessageView | None:
        """An internal note (never sent to the customer); None if already stored."""
        text = _clean(text)
        async with self.store.tx() as tx:
            conv = await tx.lock_conversation(conversation_id)
            if await _stored(tx, conv.channel, external_id):
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
                meta={"via": VIA},
            )
            return message_view(msg)


async def _stored(tx: Tx, channel: str, external_id: str) -> bool:
    return await tx.find_external(channel, external_id) is not None
