"""Posting to Slack: the outbox's ``send`` for customer-visible messages, and the
pacing and error mapping every post shares.

- At most one post per Slack channel every ``slack.min_post_interval`` seconds
  (Slack allows about one a second per channel).
- ``429`` (``ratelimited``) raises :class:`TransientDeliveryError` with Slack's
  ``Retry-After``, so the outbox retries no sooner (jobs honour ``retry_after``);
  Slack did not post, so the retry posts once.
- Delivered once: ``posting`` is recorded before ``chat.postMessage`` and the
  message carries its idempotency key in Slack message ``metadata``; a send that
  finds its key still ``posting`` (the outcome of an earlier attempt is unknown:
  a crash, a timeout, a 5xx) looks for the key in the thread
  (``conversations.replies`` with ``include_all_metadata``) before posting again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack import markup
from channels.slack.records import POSTED, POSTING, SlackRecords
from gateway.models import AuthorKind, Delivery, DeliveryStatus, Outbound, TransientDeliveryError

log = logging.getLogger(__name__)

METADATA_EVENT = "guichet_message"
# Slack errors worth another try later (others are permanent: channel_not_found, ...).
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


def split_thread_key(thread_key: str) -> tuple[str, str]:
    """``CHANNEL:THREAD_TS`` (the Slack conversation and the thread's root message)."""
    channel, _, ts = thread_key.partition(":")
    if not channel or not ts:
        raise ValueError(f"not a Slack thread key: {thread_key!r}")
    return channel, ts


def retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


class Pacer:
    """At most one post per channel every ``interval`` seconds (in this process)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        if self.interval <= 0:
            return
        async with self._locks.setdefault(channel, asyncio.Lock()):
            delay = self._next.get(channel, 0.0) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[channel] = time.monotonic() + self.interval


class Poster:
    def __init__(
        self, client: AsyncWebClient, records: SlackRecords, pacer: Pacer, *, operator_names: bool
    ) -> None:
        self.client = client
        self.records = records
        self.pacer = pacer
        self.operator_names = operator_names

    async def post(self, channel: str, **kwargs: Any) -> dict[str, Any]:
        """``chat.postMessage``, paced; returns Slack's answer (raises SlackApiError)."""
        await self.pacer.wait(channel)
        response = await self.client.chat_postMessage(channel=channel, **kwargs)
        return dict(response.data) if isinstance(response.data, dict) else {}

    # ----------------------------------------------------- the outbox's send
    async def send(self, outbound: Outbound) -> Delivery:
        try:
            channel, thread_ts = split_thread_key(outbound.thread_key)
        except ValueError as exc:
            return Delivery(DeliveryStatus.FAILED, str(exc))
        key = outbound.idempotency_key or f"message-{outbound.message_id}"
        known = await self.records.post(key)
        if known is not None and known[0] == POSTED and known[1]:
            return Delivery(DeliveryStatus.SENT, "posted earlier", external_id=known[1])
        if known is not None and known[0] == POSTING:
            found = await self._find(channel, thread_ts, key)
            if found:
                await self.records.mark_posted(key, found)
                return Delivery(DeliveryStatus.SENT, "posted by an earlier attempt", external_id=found)
        await self.records.mark_posting(key, channel, thread_ts)
        kwargs: dict[str, Any] = {
            "thread_ts": thread_ts,
            "text": markup.from_plain(outbound.text),
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": key}},
            "unfurl_links": False,
        }
        if outbound.quick_replies:
            kwargs["blocks"] = markup.quick_reply_blocks(outbound.text, outbound.quick_replies)
        if self.operator_names and outbound.author is AuthorKind.OPERATOR and outbound.author_name:
            kwargs["username"] = outbound.author_name[:80]
        try:
            data = await self.post(channel, **kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            status = getattr(exc.response, "status_code", 0)
            if status == 429 or error == "ratelimited":
                await self.records.clear_post(key)  # Slack did not post it
                wait = retry_after(exc)
                raise TransientDeliveryError(
                    f"Slack rate limit (Retry-After {wait})", retry_after=wait
                ) from exc
            if status >= 500 or error in TRANSIENT_ERRORS:
                raise TransientDeliveryError(f"Slack error {status} {error}") from exc  # outcome unknown
            await self.records.clear_post(key)
            return Delivery(DeliveryStatus.FAILED, f"Slack refused the message: {error or status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientDeliveryError(f"Slack unreachable: {type(exc).__name__}: {exc}") from exc
        ts = str(data.get("ts", ""))
        await self.records.mark_posted(key, ts)
        return Delivery(DeliveryStatus.SENT, "posted", external_id=ts or None)

    async def _find(self, channel: str, thread_ts: str, key: str) -> str | None:
        """The ts of our message carrying ``key`` in the thread, if it was posted."""
        try:
            response = await self.client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        except SlackApiError as exc:
            raise TransientDeliveryError(f"cannot check the thread for an earlier post: {exc}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientDeliveryError(f"Slack unreachable: {exc}") from exc
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT
                and (meta.get("event_payload") or {}).get("key") == key
            ):
                return str(message.get("ts"))
        return None
