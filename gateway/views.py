"""Read-only snapshots the store hands out: safe to keep after the session ends,
to serialise to JSON, and to render in templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.models import AuthorKind, ConversationState, MessageKind, QuickReply, TicketStatus


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    conversation_id: int
    direction: str  # "in" (from the customer) or "out"
    author: AuthorKind
    author_name: str
    kind: MessageKind
    text: str
    created_at: datetime
    html: str | None = None
    quick_replies: tuple[QuickReply, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    delivery: str | None = None  # outbound only: queued, sent, stored, failed

    @property
    def customer_visible(self) -> bool:
        return self.kind is MessageKind.MESSAGE

    def to_public(self) -> dict[str, Any]:
        """What the customer's own channel may show: never notes or events."""
        return {
            "id": self.id,
            "author": self.author.value,
            "author_name": self.author_name,
            "text": self.text,
            "quick_replies": [{"id": q.id, "label": q.label} for q in self.quick_replies],
            "created_at": _iso(self.created_at),
        }

    def to_operator(self) -> dict[str, Any]:
        return {
            **self.to_public(),
            "conversation_id": self.conversation_id,
            "direction": self.direction,
            "kind": self.kind.value,
            "html": self.html,
            "meta": self.meta,
            "delivery": self.delivery,
        }


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    number: str
    conversation_id: int
    status: TicketStatus
    queue: str
    priority: str
    subject: str
    created_at: datetime
    updated_at: datetime
    assignee_id: int | None = None
    assignee_name: str | None = None
    customer_name: str = ""
    channel: str = ""
    handoff_reason: str = ""
    first_response_due: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "conversation_id": self.conversation_id,
            "status": self.status.value,
            "queue": self.queue,
            "priority": self.priority,
            "subject": self.subject,
            "assignee_id": self.assignee_id,
            "assignee_name": self.assignee_name,
            "customer_name": self.customer_name,
            "channel": self.channel,
            "handoff_reason": self.handoff_reason,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "first_response_due": _iso(self.first_response_due),
            "first_response_at": _iso(self.first_response_at),
            "resolved_at": _iso(self.resolved_at),
        }


@dataclass(frozen=True, slots=True)
class ConversationView:
    id: int
    channel: str
    thread_key: str
    state: ConversationState
    customer_id: int
    customer_name: str
    customer_address: str
    lang: str
    created_at: datetime
    updated_at: datetime
    ticket: TicketView | None = None
    assignee_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "state": self.state.value,
            "customer_name": self.customer_name,
            "customer_address": self.customer_address,
            "lang": self.lang,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "ticket": self.ticket.to_dict() if self.ticket else None,
            "assignee_id": self.assignee_id,
        }


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    name: str
    role: str  # "operator" or "admin"
    display_name: str = ""
    active: bool = True
