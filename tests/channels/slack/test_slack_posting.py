"""Posting: delivered once even when an earlier attempt's outcome is unknown, Slack's
refusals mapped to failed or retried deliveries, at most one post a second per channel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.slack.channel import SlackChannel
from channels.slack.posting import Pacer
from gateway.models import AuthorKind, DeliveryStatus, Identity, Outbound, QuickReply, TransientDeliveryError
from gateway.web import keys
from tests.channels.slack.conftest import CAROL, SlackSite


def outbound(key: str, *, text: str = "Hello", thread: str = "D0CAROL:1800000400.000001") -> Outbound:
    return Outbound(
        message_id=1,
        conversation_id=1,
        channel="slack",
        thread_key=thread,
        recipient=Identity("slack", CAROL, "Carol"),
        text=text,
        author=AuthorKind.OPERATOR,
        author_name="Alice",
        quick_replies=(QuickReply("solved", "Yes"),),
        created_at=datetime.now(UTC),
        idempotency_key=key,
    )


def channel_of(site: SlackSite) -> SlackChannel:
    channel = site.app[keys.CHANNELS]["slack"]
    assert isinstance(channel, SlackChannel)
    return channel


async def test_a_send_whose_outcome_was_lost_is_not_posted_twice(site: SlackSite) -> None:
    channel = channel_of(site)
    assert channel.records is not None
    # An earlier attempt recorded "posting", Slack posted it, and the answer was lost.
    await channel.records.mark_posting("key-lost", "D0CAROL", "1800000400.000001")
    site.stub.api_chat_postMessage(
        {
            "channel": "D0CAROL",
            "thread_ts": "1800000400.000001",
            "text": "Hello",
            "metadata": {"event_type": "guichet_message", "event_payload": {"key": "key-lost"}},
        }
    )
    delivery = await channel.send(outbound("key-lost"))
    assert delivery.status is DeliveryStatus.SENT and delivery.external_id == site.stub.messages[0].ts
    assert len(site.stub.messages) == 1
    # ...and a key still "posting" that Slack never saw is posted (once)
    await channel.records.mark_posting("key-never", "D0CAROL", "1800000400.000001")
    delivery = await channel.send(outbound("key-never"))
    assert delivery.status is DeliveryStatus.SENT and len(site.stub.messages) == 2
    again = await channel.send(outbound("key-never"))  # a retry after a lost "sent" mark
    assert again.external_id == delivery.external_id and len(site.stub.messages) == 2
    posted = site.stub.messages[1]
    assert (
        posted.username == "Alice" and posted.blocks and posted.blocks[1]["elements"][0]["value"] == "solved"
    )


async def test_slack_refusals_fail_or_retry(site: SlackSite) -> None:
    channel = channel_of(site)
    failed = await channel.send(outbound("key-bad", thread="not-a-thread"))
    assert failed.status is DeliveryStatus.FAILED and "thread key" in failed.detail
    no_channel = await channel.send(outbound("key-nochan", thread=":1800000400.000001"))
    assert no_channel.status is DeliveryStatus.FAILED
    site.stub.rate_limit("chat.postMessage", 7)
    with pytest.raises(TransientDeliveryError) as raised:
        await channel.send(outbound("key-429"))
    assert raised.value.retry_after == 7.0
    site.stub.token = "xoxb-revoked"
    refused = await channel.send(outbound("key-auth"))
    assert refused.status is DeliveryStatus.FAILED and "invalid_auth" in refused.detail


async def test_posts_in_one_channel_are_paced(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    now = [100.0]

    async def fake_sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))
        now[0] += seconds

    monkeypatch.setattr("channels.slack.posting.asyncio.sleep", fake_sleep)
    monkeypatch.setattr("channels.slack.posting.time.monotonic", lambda: now[0])
    pacer = Pacer(1.0)
    await pacer.wait("C1")
    await pacer.wait("C2")  # another channel: no wait
    now[0] += 0.25
    await pacer.wait("C1")
    await pacer.wait("C1")
    assert waits == [0.75, 1.0]
    await Pacer(0).wait("C1")
    assert waits == [0.75, 1.0]
