"""An in-memory channel for tests (httpx ``MockTransport`` style): records what
it is asked to send and lets a test inject inbound messages."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.flow.channel_context import ChannelContext
from gateway.models import (
    AcceptResult,
    Delivery,
    DeliveryStatus,
    Identity,
    Inbound,
    Outbound,
    TransientDeliveryError,
)
from gateway.protocols import AcceptFn


class FakeChannel:
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self.fail_next = 0  # how many sends raise TransientDeliveryError first
        self.accept: AcceptFn | None = None
        self.started = False

    async def start(self, accept: AcceptFn) -> None:
        self.accept = accept
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def send(self, outbound: Outbound) -> Delivery:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientDeliveryError("fake transient failure")
        self.sent.append(outbound)
        return Delivery(DeliveryStatus.SENT, external_id=f"fake-{outbound.message_id}")

    async def receive(
        self,
        text: str,
        *,
        user: str = "alice",
        message_id: str | None = None,
        thread: str | None = None,
        quick_reply: str | None = None,
        lang: str | None = None,
    ) -> AcceptResult:
        """Simulate a customer writing in."""
        assert self.accept is not None, "channel not started"
        inbound = Inbound(
            channel=self.name,
            external_id=message_id or f"{user}-{len(self.sent)}-{datetime.now(UTC).timestamp()}",
            thread_key=thread or user,
            sender=Identity(self.name, user, user.title()),
            text=text,
            received_at=datetime.now(UTC),
            quick_reply=quick_reply,
            language_hint=lang,
        )
        return await self.accept(inbound)


def create_channel(ctx: ChannelContext) -> FakeChannel:
    return FakeChannel()
