"""Guichet core: message model, store, inbox, jobs, router, bot policy, outbox,
event bus, operator actions and the web application.  Imports no channel SDK."""

from gateway.clock import Clock, FakeClock, SystemClock
from gateway.config import Settings, load_settings
from gateway.models import (
    AcceptResult,
    Action,
    Attachment,
    AuthorKind,
    ConversationState,
    Delivery,
    DeliveryStatus,
    Identity,
    Inbound,
    MessageKind,
    Outbound,
    QuickReply,
    TicketStatus,
    TransientDeliveryError,
)
from gateway.protocols import AcceptFn, Channel, Event, EventBus, Hit, Retriever, SearchResult

__all__ = [
    "AcceptFn",
    "AcceptResult",
    "Action",
    "Attachment",
    "AuthorKind",
    "Channel",
    "Clock",
    "ConversationState",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "EventBus",
    "FakeClock",
    "Hit",
    "Identity",
    "Inbound",
    "MessageKind",
    "Outbound",
    "QuickReply",
    "Retriever",
    "SearchResult",
    "Settings",
    "SystemClock",
    "TicketStatus",
    "TransientDeliveryError",
    "load_settings",
]
