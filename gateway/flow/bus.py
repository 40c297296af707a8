"""In-process event bus: live updates for consoles and channels.

Best effort by design: a slow subscriber's queue is bounded and drops the
oldest events rather than stalling publishers.  Durable work never goes
through here (see ``gateway.flow.jobs``).
"""

from __future__ import annotations

import asyncio
import logging

from gateway.protocols import Event

log = logging.getLogger(__name__)


class Subscription:
    """An async iterator of events, registered from the moment it is created
    (so nothing published between ``subscribe()`` and the first ``await`` is lost)."""

    def __init__(self, bus: InProcessEventBus, prefixes: tuple[str, ...], maxsize: int) -> None:
        self._bus = bus
        self.prefixes = prefixes
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.closed = False

    def wants(self, topic: str) -> bool:
        return not self.prefixes or topic.startswith(self.prefixes)

    def offer(self, event: Event | None) -> None:
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()
                self.dropped += 1

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        if self.closed:
            raise StopAsyncIteration
        event = await self.queue.get()
        if event is None:
            self.close()
            raise StopAsyncIteration
        return event

    def close(self) -> None:
        self.closed = True
        self._bus._subs.discard(self)

    async def aclose(self) -> None:
        self.close()


class InProcessEventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subs: set[Subscription] = set()
        self._queue_size = queue_size

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    async def publish(self, event: Event) -> None:
        for sub in list(self._subs):
            if sub.wants(event.topic):
                sub.offer(event)

    def subscribe(self, *prefixes: str) -> Subscription:
        sub = Subscription(self, prefixes, self._queue_size)
        self._subs.add(sub)
        return sub

    async def close(self) -> None:
        """End every subscription (their iterators finish)."""
        for sub in list(self._subs):
            sub.offer(None)
