"""Channel-neutral message contracts shared by every channel and the core.

These are plain value objects: channels build an :class:`Inbound` from whatever
their protocol delivers, and receive an :class:`Outbound` to send.  Nothing here
knows about a database or a channel SDK.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Action(enum.StrEnum):
    """What the bot policy decided for one customer message."""

    ANSWER = "answer"
    HANDOFF = "handoff"
    SMALLTALK = "smalltalk"
    CLARIFY = "clarify"  # one clarifying question: which of two close articles?


class ConversationState(enum.StrEnum):
    BOT = "bot"  # the bot handles the conversation
    PENDING = "pending"  # handed off, waiting for an operator to take it
    OPERATOR = "operator"  # an operator has taken it over; the bot is silent
    RESOLVED = "resolved"


class TicketStatus(enum.StrEnum):
    """A ticket's lifecycle (transitions: :mod:`gateway.tickets.lifecycle`)."""

    NEW = "new"  # in the queue, nobody has taken it
    OPEN = "open"  # an operator took it over
    PENDING_CUSTOMER = "pending_customer"  # waiting on the customer: SLA clock paused
    PENDING_THIRD_PARTY = "pending_third_party"  # waiting on a supplier, another team...
    RESOLVED = "resolved"  # a customer reply reopens it
    CLOSED = "closed"  # final: a new message starts a new ticket


class AuthorKind(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    OPERATOR = "operator"
    SYSTEM = "system"


class MessageKind(enum.StrEnum):
    MESSAGE = "message"  # visible to the customer
    NOTE = "note"  # internal note, never shown to the customer
    EVENT = "event"  # "ticket #12 created", "taken over by alice" (operators only)


@dataclass(frozen=True, slots=True)
class Identity:
    """A person as one channel knows them (Errbot style: explicit identity)."""

    channel: str
    address: str  # email address, Slack user id, web-chat visitor id
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment stored by reference, never inline in a message row."""

    filename: str
    content_type: str
    size: int
    ref: str  # storage reference (path or key), never raw bytes


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A button the customer can press; channels that cannot show buttons
    render it as a numbered plain-text line and map the number back."""

    id: str  # "solved", "handoff"
    label: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as a channel received it, normalised."""

    channel: str
    external_id: str  # channel's message id: dedupe key for redeliveries
    thread_key: str  # email References root / Slack thread / chat session
    sender: Identity
    text: str
    received_at: datetime
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    auto_submitted: bool = False  # RFC 3834 auto-replies: never answered by the bot
    bounce: bool = False
    language_hint: str | None = None  # "fr", "en", ... if the channel knows
    quick_reply: str | None = None  # id of a pressed QuickReply, if any


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to deliver on a conversation's own channel."""

    message_id: int
    conversation_id: int
    channel: str
    thread_key: str
    recipient: Identity
    text: str
    author: AuthorKind
    author_name: str = ""
    html: str | None = None
    quick_replies: tuple[QuickReply, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    created_at: datetime | None = None
    meta: dict[str, object] = field(default_factory=dict)
    # Unique to this message and the same on every retry: channels that can
    # deduplicate use it (the email Message-ID, Slack's client message id).
    idempotency_key: str = ""


class DeliveryStatus(enum.StrEnum):
    """An outbound message's delivery: queued → sending → sent | stored | failed."""

    QUEUED = "queued"  # committed, waiting for its send job
    SENDING = "sending"  # handed to the channel; the outcome is not known yet
    SENT = "sent"  # handed to the channel's transport
    STORED = "stored"  # recipient offline; kept and shown when they come back
    FAILED = "failed"  # permanent failure: not retried


@dataclass(frozen=True, slots=True)
class Delivery:
    status: DeliveryStatus
    detail: str = ""
    external_id: str | None = None


class TransientDeliveryError(Exception):
    """Raised by ``Channel.send`` when a retry later may succeed; ``retry_after``
    (seconds) is the peer's own wish (SMTP 4xx, HTTP 429 ``Retry-After``)."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """What ``inbox.accept`` committed; the channel acks only after this."""

    message_id: int
    conversation_id: int
    duplicate: bool  # the external id was seen before: nothing new stored
