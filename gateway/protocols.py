"""The ports of the core.  Adapters (channels, stores, indexes) implement these.

Each port is small, and each has an in-memory or deterministic fake beside the
real adapter (``channels.fake.FakeChannel``, ``kb_index.embedder.HashEmbedder``,
``gateway.flow.bus.InProcessEventBus``, the SQL store on SQLite in a temp dir).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from gateway.models import AcceptResult, Delivery, Inbound, Outbound

# --------------------------------------------------------------------- channels

AcceptFn = Callable[[Inbound], Awaitable[AcceptResult]]


@runtime_checkable
class Channel(Protocol):
    """One way customers write in.  Registered by ``name``.

    ``start`` receives the core's ``accept`` function: the channel calls it for
    every inbound message and acknowledges to its peer only once it returned
    (the message is then committed).  ``send`` delivers one outbound message; it
    raises :class:`gateway.models.TransientDeliveryError` to be retried later.
    """

    name: str

    async def start(self, accept: AcceptFn) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, outbound: Outbound) -> Delivery: ...


# -------------------------------------------------------------------- retriever


@dataclass(frozen=True, slots=True)
class Hit:
    """One knowledge-base article found for a query."""

    article_id: str
    title: str
    answer: str  # the article body (Markdown / plain text)
    score: float  # the retriever's raw fused score, comparable within one query
    lang: str = ""
    tags: tuple[str, ...] = ()
    matched: str = ""  # the chunk or question variant that matched best


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[Hit, ...]
    confidence: float  # calibrated, 0..1: probability the top hit answers the query
    index_version: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@runtime_checkable
class Retriever(Protocol):
    """Searches the knowledge base.  Implementations run blocking work (model
    encode, FAISS search) off the event loop and swap index versions atomically."""

    async def search(self, text: str, k: int = 5) -> SearchResult: ...


# -------------------------------------------------------------------- event bus


@dataclass(frozen=True, slots=True)
class Event:
    topic: str  # "ticket.created", "ticket.updated", "message.created", ...
    data: dict[str, Any]


@runtime_checkable
class EventBus(Protocol):
    """Publish/subscribe for live updates (operator console, typing, ...).

    In-process now; PostgreSQL LISTEN/NOTIFY later.  Delivery is best effort:
    durable work goes through jobs, never through the bus.
    """

    async def publish(self, event: Event) -> None: ...

    def subscribe(self, *prefixes: str) -> AsyncIterator[Event]: ...
