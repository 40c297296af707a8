"""The in-process event bus: prefixes, bounded queues, closing."""

from __future__ import annotations

from gateway.flow.bus import InProcessEventBus
from gateway.protocols import Event


async def test_subscribers_get_matching_topics_from_the_moment_they_subscribe() -> None:
    bus = InProcessEventBus()
    tickets = bus.subscribe("ticket.")
    everything = bus.subscribe()
    await bus.publish(Event("ticket.created", {"n": 1}))
    await bus.publish(Event("message.created", {"n": 2}))
    assert (await anext(tickets)).data == {"n": 1}
    assert [(await anext(everything)).topic for _ in range(2)] == ["ticket.created", "message.created"]
    assert tickets.queue.empty()


async def test_a_slow_subscriber_loses_old_events_not_the_publisher() -> None:
    bus = InProcessEventBus(queue_size=3)
    sub = bus.subscribe()
    for n in range(10):
        await bus.publish(Event("x", {"n": n}))
    assert sub.dropped == 7
    assert [(await anext(sub)).data["n"] for _ in range(3)] == [7, 8, 9]


async def test_close_ends_every_subscription() -> None:
    bus = InProcessEventBus()
    sub = bus.subscribe()
    await bus.close()
    assert [e async for e in sub] == []
    assert bus.subscriber_count == 0
