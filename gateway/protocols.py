"""The ports of the core.  Adapters (channels, stores, indexes) implement these.

Each port is small, and each has an in-memory or deterministic fake beside the
real adapter (``channels.fake.FakeChannel``, ``kb_index.embedder.HashEmbedder``,
``gateway.flow.bus.InProcessEventBus``, the SQL store on SQLite in a temp dir).

The knowledge-base search port (:class:`Retriever` and the :class:`Hit` and
:class:`SearchResult` it returns) is defined by the library that fulfils it,
:mod:`kb_index.contracts`, and named here beside the core's other ports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gateway.models import AcceptResult, Delivery, Inbound, Outbound
from kb_index.contracts import Hit, Retriever, SearchResult  # the search port, defined by kb_index

__all__ = ["AcceptFn", "Channel", "Event", "EventBus", "Hit", "Retriever", "SearchResult"]

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
