"""The ``send`` job: deliver one stored outbound message on its channel.

Every customer-visible message leaves through here, whoever wrote it (bot or
operator): it was committed first, so a crash never loses it.  Its delivery goes
queued → sending → sent | stored | failed(reason).  "sending" is written before
the channel is called, so a send whose outcome is unknown (a crash, a lease lost)
is retried with the same idempotency key, which channels that can deduplicate
use (email Message-ID, Slack client message id).  A transient failure goes back
to queued with its reason and is retried with backoff (``Retry-After`` honoured);
a permanent one, or a job out of attempts, ends as failed with the reason shown
to operators.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gateway import metrics
from gateway.db.tables import Message
from gateway.flow.job_queue import JobView
from gateway.flow.jobs import PermanentJobError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx, message_view
from gateway.models import DeliveryStatus, MessageKind, Outbound, TransientDeliveryError
from gateway.protocols import Channel

log = logging.getLogger(__name__)

FINAL = (DeliveryStatus.SENT.value, DeliveryStatus.STORED.value, DeliveryStatus.FAILED.value)


class Outbox:
    def __init__(self, store: SqlStore, channels: Mapping[str, Channel]) -> None:
        self.store = store
        self.channels = channels

    async def handle(self, job: JobView) -> None:
        message_id = job.payload.get("message_id")
        if not isinstance(message_id, int):
            raise PermanentJobError(f"send job without message_id: {job.payload!r}")
        prepared = job.prepared if isinstance(job.prepared, Outbound) else None
        if prepared is not None:  # fast path: just committed as "sending"
            outbound, state = prepared, DeliveryStatus.SENDING.value
        else:
            async with self.store.read() as tx:
                msg = await tx.message(message_id)
                if msg.delivery in FINAL:
                    return  # delivered (or given up) before a crash marked the job done
                if msg.direction != "out" or msg.kind != MessageKind.MESSAGE.value:
                    raise PermanentJobError(f"message {message_id} is not a customer-visible reply")
                conv = await tx.conversation(msg.conversation_id)
                outbound, state = await tx.outbound(conv, msg), msg.delivery or ""
        channel = self.channels.get(outbound.channel)
        if channel is None:
            raise PermanentJobError(f"channel {outbound.channel!r} is not configured")
        if state != DeliveryStatus.SENDING.value:
            await self._update(message_id, DeliveryStatus.SENDING, "")
        try:
            delivery = await channel.send(outbound)
        except TransientDeliveryError as exc:
            if job.attempts < job.max_attempts:  # else the dead handler marks it failed
                await self._update(message_id, DeliveryStatus.QUEUED, f"retrying: {exc}")
            raise
        metrics.DELIVERIES.labels(outbound.channel, delivery.status.value).inc()
        if delivery.status is DeliveryStatus.FAILED:
            raise PermanentJobError(f"delivery failed: {delivery.detail}")
        if prepared is not None and delivery.status is DeliveryStatus.SENT and not delivery.external_id:
            await self.store.apply(  # two UPDATEs (plain SQL on SQLite)
                lambda tx: self._sent(tx, outbound.conversation_id, message_id, job))
            return
        async with self.store.tx() as tx:
            msg = await tx.message(message_id)
            _set(tx, msg, delivery.status, delivery.detail, delivery.external_id)
            await tx.complete_job(job)

    @staticmethod
    async def _sent(tx: Tx, conversation_id: int, message_id: int, job: JobView) -> None:
        await tx.mark_sent(conversation_id, message_id)
        await tx.complete_job(job)

    async def on_dead(self, tx: Tx, job: JobView, error: str) -> None:
        """A send job that died: the message is failed, with the reason, for operators."""
        msg = await tx.job_message(job.payload)
        if msg is None:
            return
        if msg.delivery in (DeliveryStatus.SENT.value, DeliveryStatus.STORED.value):
            return
        reason = error.removeprefix("permanent: ")
        _set(tx, msg, DeliveryStatus.FAILED, reason)
        log.warning("message %s could not be delivered: %s", msg.id, reason)

    async def _update(self, message_id: int, status: DeliveryStatus, detail: str) -> None:
        async with self.store.tx() as tx:
            _set(tx, await tx.message(message_id), status, detail)


def _set(tx: Tx, msg: Message, status: DeliveryStatus, detail: str, external_id: str | None = None) -> None:
    msg.delivery = status.value
    meta: dict[str, Any] = dict(msg.meta or {})
    if detail:
        meta["delivery_detail"] = detail
    else:
        meta.pop("delivery_detail", None)
    if external_id:
        meta["delivery_id"] = external_id
    msg.meta = meta
    tx.emit(
        "message.updated",
        {"conversation_id": msg.conversation_id, "message": message_view(msg).to_operator()},
    )
