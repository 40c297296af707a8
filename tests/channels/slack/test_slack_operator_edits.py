"""An operator edits or deletes their reply in the ticket's thread: a Slack customer's
copy follows (chat.update / chat.delete); the conversation records it in a note; what
was stored is not rewritten."""

from __future__ import annotations

from typing import Any

from gateway.models import MessageKind
from gateway.web import keys
from tests.channels.slack.conftest import ALICE, CAROL, OPS, SlackSite, ticket_root, until
from tests.support.slack_requests import channel_message, dm

DM = "D0CAROL"


def changed(ts: str, root: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": OPS,
        "channel_type": "channel",
        "ts": "1800000890.000001",
        "hidden": True,
        "message": {"type": "message", "user": ALICE, "text": text, "ts": ts, "thread_ts": root},
        "previous_message": {"type": "message", "user": ALICE, "ts": ts, "thread_ts": root},
    }


def deleted(ts: str, root: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "channel": OPS,
        "channel_type": "channel",
        "ts": "1800000891.000001",
        "deleted_ts": ts,
        "hidden": True,
        "previous_message": {"type": "message", "user": ALICE, "ts": ts, "thread_ts": root, "text": "x"},
    }


async def test_an_edited_then_deleted_reply_follows_in_the_customers_thread(site: SlackSite) -> None:
    await site.slack.event(dm(CAROL, "I want to talk to a person", "1800000800.000001", channel=DM))
    root = await ticket_root(site)
    ticket = (await site.app[keys.OPERATORS].list_tickets())[0]
    reply = channel_message(ALICE, "reply: Your code is 1234", "1800000801.000001", OPS, thread_ts=root.ts)
    await site.slack.event(reply)
    sent = await until(
        lambda: [m for m in site.stub.posted(DM) if m.text == "Your code is 1234"], "the reply"
    )

    async def delivered() -> bool:
        messages = await site.messages(ticket.conversation_id)
        return any(m.meta.get("delivery_id") == sent[0].ts for m in messages)

    await until(delivered, "the reply marked sent")
    edit = changed("1800000801.000001", root.ts, "reply: Your code is 5678")
    assert (await site.slack.event(edit))[0] == 200
    await until(lambda: sent[0].text == "Your code is 5678", "the customer's copy updated")
    assert (await site.slack.event(deleted("1800000801.000001", root.ts)))[0] == 200
    await until(lambda: sent[0] in site.stub.deleted, "the customer's copy deleted")
    messages = await site.messages(ticket.conversation_id)
    notes = [m.text for m in messages if m.kind is MessageKind.NOTE]
    assert notes == [
        "Alice edited their reply; it now reads: Your code is 5678 (in Slack); "
        "the customer's copy in Slack followed.",
        "Alice deleted their reply (in Slack); the customer's copy in Slack followed.",
    ]
    assert [m.text for m in messages if m.author.value == "operator"] == ["Your code is 1234"]  # kept as sent


async def test_an_edited_note_is_recorded_and_nothing_reaches_the_customer(site: SlackSite) -> None:
    await site.slack.event(dm(CAROL, "I want to talk to a person", "1800000810.000001", channel=DM))
    root = await ticket_root(site)
    ticket = (await site.app[keys.OPERATORS].list_tickets())[0]
    await site.slack.event(
        channel_message(ALICE, "she sounds upset", "1800000811.000001", OPS, thread_ts=root.ts)
    )
    posted = len(site.stub.posted(DM))
    await site.slack.event(changed("1800000811.000001", root.ts, "she sounds very upset"))
    notes = [m.text for m in await site.messages(ticket.conversation_id) if m.kind is MessageKind.NOTE]
    assert notes == [
        "she sounds upset",
        "Alice edited; it now reads: she sounds very upset (an internal note, in Slack).",
    ]
    assert len(site.stub.posted(DM)) == posted and all(u["channel"] != DM for u in site.stub.updates)
