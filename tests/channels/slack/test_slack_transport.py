"""Issue 11, acceptance 3: Slack's requests are verified (forged signature 401, no
signing secret refuses everything, a timestamp older than 5 minutes is refused); a
retried event is stored once; a 429 delays the send and the message is delivered once."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from gateway.db.tables import Message
from gateway.db.tables_slack import SlackEventRow
from gateway.models import AuthorKind
from gateway.web import keys
from tests.channels.slack.conftest import CAROL, SlackSite, make_site, until
from tests.support.slack_requests import SlackSender, dm, sign
from tests.support.slack_stub import SlackStub


async def count_messages(site: SlackSite, **where: Any) -> int:
    async with site.app[keys.SESSIONS]() as session:
        stmt = select(func.count()).select_from(Message)
        for key, value in where.items():
            stmt = stmt.where(getattr(Message, key) == value)
        return int(await session.scalar(stmt) or 0)


async def test_a_forged_signature_gets_401_and_stores_nothing(site: SlackSite) -> None:
    event = dm(CAROL, "How do I reset my password?", "1800000000.000100")
    status, _ = await site.slack.event(event, secret="not-the-signing-secret")
    assert status == 401
    body = json.dumps(site.slack.envelope(event))
    headers = site.slack.headers(body)
    headers["X-Slack-Signature"] = headers["X-Slack-Signature"][:-4] + "0000"
    assert (await site.slack.post("/slack/events", body, headers))[0] == 401
    unsigned = {"Content-Type": "application/json"}
    assert (await site.slack.post("/slack/events", body, unsigned))[0] == 401
    action = await site.slack.action({"type": "block_actions", "actions": []}, secret="forged")
    assert action[0] == 401
    assert await count_messages(site) == 0 and site.stub.messages == []


async def test_a_timestamp_older_than_five_minutes_is_refused(site: SlackSite) -> None:
    event = dm(CAROL, "How do I reset my password?", "1800000000.000200")
    old = int(time.time()) - 6 * 60
    status, _ = await site.slack.event(event, timestamp=old)  # correctly signed, but replayed late
    assert status == 401
    assert await count_messages(site) == 0
    status, _ = await site.slack.event(event, timestamp=int(time.time()) - 60)  # within the window
    assert status == 200
    assert await count_messages(site, direction="in") == 1


async def test_without_a_signing_secret_every_request_is_refused(
    settings: Any, stub: SlackStub, aiohttp_client: Any
) -> None:
    site = await make_site(settings, stub, aiohttp_client, signing_secret="")
    event = dm(CAROL, "hello", "1800000000.000300")
    for secret in ("", "anything", "test-signing-secret"):
        sender = SlackSender(site.slack.base, secret=secret)
        assert (await sender.event(event))[0] == 401
        assert (await sender.action({"type": "block_actions"}))[0] == 401
    body = json.dumps(site.slack.envelope(event))
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign("", ts, body),
    }
    status, text = await site.slack.post("/slack/events", body, headers)
    assert status == 401 and "no signing secret" in text
    url_check = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"})
    assert (await site.slack.post("/slack/events", url_check, {"Content-Type": "application/json"}))[0] == 401
    assert await count_messages(site) == 0


async def test_a_retried_event_is_stored_once(site: SlackSite) -> None:
    event = dm(CAROL, "How do I reset my password?", "1800000000.000400")
    first = await site.slack.event(event, event_id="EvRETRY1")
    again = await site.slack.event(event, event_id="EvRETRY1", retry_num=1)
    third = await site.slack.event(event, event_id="EvRETRY1", retry_num=2)
    assert first[0] == again[0] == third[0] == 200
    # the same message in another event (its app_mention twin, a redelivery): one message too
    assert (await site.slack.event(event, event_id="EvOTHER"))[0] == 200
    replies = await until(lambda: site.stub.posted(thread_ts="1800000000.000400"), "the bot's answer")
    assert await count_messages(site, direction="in") == 1
    assert await count_messages(site, author_kind=AuthorKind.BOT.value) == 1
    assert len(replies) == 1 and "Title reset-password" in replies[0].text
    async with site.app[keys.SESSIONS]() as session:
        assert await session.get(SlackEventRow, "EvRETRY1") is not None  # remembered durably


async def test_a_429_delays_the_send_and_the_message_is_delivered_once(site: SlackSite) -> None:
    site.stub.rate_limit("chat.postMessage", 1)  # the first post gets 429 with Retry-After: 1
    event = dm(CAROL, "How do I reset my password?", "1800000000.000500")
    assert (await site.slack.event(event))[0] == 200
    posted = await until(lambda: site.stub.posted(thread_ts="1800000000.000500"), "the answer, once allowed")
    attempts = [c for c in site.stub.calls if c.method == "chat.postMessage"]
    assert len(attempts) == 2 and len(posted) == 1  # refused once, then posted once
    assert attempts[1].at - attempts[0].at >= 1.0  # not before Slack's Retry-After

    async def bot_reply() -> Message | None:
        async with site.app[keys.SESSIONS]() as session:
            stmt = select(Message).where(Message.author_kind == "bot", Message.delivery == "sent")
            return (await session.execute(stmt)).scalar_one_or_none()

    reply = await until(bot_reply, "the answer marked sent")
    assert reply.meta["delivery_id"] == posted[0].ts


async def test_slacks_url_verification_is_answered_only_when_signed(site: SlackSite) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"})
    status, text = await site.slack.post("/slack/events", body, site.slack.headers(body))
    assert status == 200 and "c-123" in text
    forged = site.slack.headers(body, secret="guess")
    assert (await site.slack.post("/slack/events", body, forged))[0] == 401
