"""The operator's actions on tickets and conversations, as the console uses them.

``OperatorService`` is the port; ``gateway.tickets.operators.SqlOperatorService`` is the
implementation on the SQL store.  Every change publishes an event on the bus
("ticket.created", "ticket.updated", "message.created") that the console's
WebSocket relays, and every customer-visible reply goes through the outbox.
Methods raise ``NotFoundError``, ``ConflictError`` or ``InvalidInputError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gateway.models import TicketStatus
from gateway.views import ConversationView, MessageView, TicketView, UserView


class OperatorService(Protocol):
    async def list_tickets(
        self,
        statuses: Sequence[TicketStatus] = (TicketStatus.NEW, TicketStatus.OPEN),
        queue: str | None = None,
    ) -> list[TicketView]: ...

    async def get_ticket(self, ticket_id: int) -> TicketView: ...

    async def get_conversation(self, conversation_id: int) -> ConversationView: ...

    async def messages(self, conversation_id: int, *, include_internal: bool = True) -> list[MessageView]: ...

    async def take_over(self, ticket_id: int, user: UserView) -> TicketView:
        """Assign to ``user``; from now on the bot stays silent on the conversation."""

    async def reply(self, conversation_id: int, user: UserView, text: str) -> MessageView:
        """Send ``text`` to the customer on their channel (takes over if nobody has)."""

    async def add_note(self, conversation_id: int, user: UserView, text: str) -> MessageView:
        """An internal note: stored and shown to operators, never to the customer."""

    async def resolve(self, ticket_id: int, user: UserView) -> TicketView:
        """Mark resolved and tell the customer."""

    async def hand_back(self, conversation_id: int, user: UserView) -> ConversationView:
        """Give the conversation back to the bot (its ticket is resolved)."""
