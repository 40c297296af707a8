"""What the core gives a channel when it is created: its handle on the core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.config import Settings
from gateway.protocols import EventBus
from gateway.views import ConversationView, MessageView

HistoryFn = Callable[[str, str], Awaitable[tuple[ConversationView | None, list[MessageView]]]]
"""``history(channel, thread_key)``: the latest conversation on that thread and its
customer-visible messages (no internal notes, no events), oldest first."""


@dataclass(frozen=True)
class ChannelContext:
    settings: Settings
    clock: Clock
    bus: EventBus
    secret_key: bytes  # the server's secret, for signing tokens
    history: HistoryFn
