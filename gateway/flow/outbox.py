"""The ``send`` job: deliver one stored outbound message on its channel.

Every customer-visible message leaves through here, whoever wrote it (bot or
operator): it was committed first, so a crash never loses it, and a transient
channel failure is retried with backoff by the job runner.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from gateway import metrics
from gateway.flow.jobs import PermanentJobError
from gateway.flow.store import JobView, SqlStore
from gateway.models import (
    AuthorKind,
    DeliveryStatus,
    Identity,
    MessageKind,
    Outbound,
    QuickReply,
)
from gateway.protocols import Channel

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, store: SqlStore, channels: Mapping[str, Channel]) -> None:
        self.store = store
        self.channels = channels

    async def handle(self, job: JobView) -> None:
        message_id = job.payload.get("message_id")
        if not isinstance(message_id, int):
            raise PermanentJobError(f"send job without message_id: {job.payload!r}")
        async with self.store.tx() as tx:
            msg = await tx.message(message_id)
            if msg.delivery in (DeliveryStatus.SENT.value, DeliveryStatus.STORED.value):
                return  # delivered before a crash marked the job done
            if msg.direction != "out" or msg.kind != MessageKind.MESSAGE.value:
                raise PermanentJobError(f"message {message_id} is not a customer-visible reply")
            conv = await tx.conversation(msg.conversation_id)
            ident = await tx.recipient(conv)
            outbound = Outbound(
                message_id=msg.id,
                conversation_id=conv.id,
                channel=conv.channel,
                thread_key=conv.thread_key,
                recipient=Identity(ident.channel, ident.address, ident.display_name),
                text=msg.text,
                author=AuthorKind(msg.author_kind),
                author_name=msg.author_name,
                html=msg.html,
                quick_replies=tuple(QuickReply(q["id"], q["label"]) for q in msg.quick_replies or ()),
                created_at=msg.created_at,
                meta=dict(msg.meta or {}),
            )
        channel = self.channels.get(outbound.channel)
        if channel is None:
            await self._set_delivery(message_id, DeliveryStatus.FAILED.value, "channel not configured")
            raise PermanentJobError(f"channel {outbound.channel!r} is not configured")
        delivery = await channel.send(outbound)  # TransientDeliveryError → retried
        metrics.DELIVERIES.labels(outbound.channel, delivery.status.value).inc()
        await self._set_delivery(message_id, delivery.status.value, delivery.detail, delivery.external_id)
        if delivery.status is DeliveryStatus.FAILED:
            raise PermanentJobError(f"delivery failed: {delivery.detail}")

    async def _set_delivery(
        self, message_id: int, status: str, detail: str, external_id: str | None = None
    ) -> None:
        async with self.store.tx() as tx:
            msg = await tx.message(message_id)
            msg.delivery = status
            meta = dict(msg.meta or {})
            if detail:
                meta["delivery_detail"] = detail
            if external_id:
                meta["delivery_id"] = external_id
            msg.meta = meta
