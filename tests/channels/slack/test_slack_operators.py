"""The operators' side: who may act, the one-owner rule, Resolve, a thread reply
stored once, and the catch-up that posts what the bus did not (durable net)."""

from __future__ import annotations

from typing import Any

from channels.slack.channel import SlackChannel
from gateway.auth.users import get_user
from gateway.models import MessageKind, TicketStatus
from gateway.views import TicketView
from gateway.web import keys
from tests.channels.slack.conftest import ALICE, BOB, CAROL, OPS, SlackSite, ticket_root, until
from tests.support.slack_requests import block_action, channel_message, dm, message_shortcut

DM = "D0CAROL"
ASKED = "1800000500.000001"


async def hand_off(site: SlackSite) -> TicketView:
    await site.slack.event(dm(CAROL, "I want to talk to a person", ASKED, channel=DM))
    tickets = await until(site.app[keys.OPERATORS].list_tickets, "the ticket")
    return tickets[0]


async def root_of(site: SlackSite) -> Any:
    return await ticket_root(site)


async def test_an_unlinked_slack_user_can_do_nothing(site: SlackSite) -> None:
    ticket = await hand_off(site)
    root = await root_of(site)
    stranger = "U0STRANGER"
    await site.slack.action(
        block_action(stranger, "guichet_take_over", str(ticket.id), channel=OPS, message_ts=root.ts)
    )
    await site.slack.event(
        channel_message(stranger, "reply: hi!", "1800000501.000001", OPS, thread_ts=root.ts)
    )
    told = await until(
        lambda: len([e for e in site.stub.ephemeral if e["user"] == stranger]) == 2, "the stranger told twice"
    )
    assert told and all("not linked" in e["text"] for e in site.stub.ephemeral)
    assert (await site.app[keys.OPERATORS].get_ticket(ticket.id)).assignee_id is None
    texts = [m.text for m in await site.messages(ticket.conversation_id)]
    assert "hi!" not in texts and "reply: hi!" not in texts


async def test_a_reply_to_a_ticket_someone_else_owns_is_refused_and_a_retry_stores_once(
    site: SlackSite,
) -> None:
    ticket = await hand_off(site)
    root = await root_of(site)
    await site.slack.action(
        block_action(ALICE, "guichet_take_over", str(ticket.id), channel=OPS, message_ts=root.ts)
    )
    bob = channel_message(BOB, "reply: let me answer instead", "1800000502.000001", OPS, thread_ts=root.ts)
    assert (await site.slack.event(bob))[0] == 200
    await until(
        lambda: any(
            "already taken by another operator" in e["text"] for e in site.stub.ephemeral if e["user"] == BOB
        ),
        "Bob told the ticket is Alice's",
    )
    await until(
        lambda: any(
            r["timestamp"] == "1800000502.000001" and r["name"] == "no_entry" for r in site.stub.reactions
        ),
        "the refusal shown on Bob's message",
    )
    note = channel_message(BOB, "I can help with this one", "1800000503.000001", OPS, thread_ts=root.ts)
    assert (await site.slack.event(note, event_id="EvNOTE1"))[0] == 200
    assert (await site.slack.event(note, event_id="EvNOTE2"))[0] == 200  # a second delivery, new id
    messages = await site.messages(ticket.conversation_id)
    assert [m.text for m in messages if m.kind is MessageKind.NOTE] == ["I can help with this one"]
    assert not any("answer instead" in m.text for m in messages)
    assert not any("answer instead" in m.text for m in site.stub.posted(DM))


async def test_resolve_from_slack_tells_the_customer_and_updates_the_ticket_message(site: SlackSite) -> None:
    ticket = await hand_off(site)
    root = await root_of(site)
    await site.slack.action(
        block_action(ALICE, "guichet_resolve", str(ticket.id), channel=OPS, message_ts=root.ts)
    )
    resolved = await site.app[keys.OPERATORS].get_ticket(ticket.id)
    assert resolved.status is TicketStatus.RESOLVED and resolved.assignee_name == "Alice"
    await until(
        lambda: [m for m in site.stub.posted(DM, ASKED) if ticket.number in m.text and "resolved" in m.text],
        "the customer told the ticket is resolved",
    )
    update = await until(
        lambda: [u for u in site.stub.updates if "resolved" in u["text"]], "the message updated"
    )
    assert update[-1]["ts"] == root.ts and "Resolve" not in str(update[-1]["blocks"])
    await site.slack.action(
        block_action(BOB, "guichet_resolve", str(ticket.id), channel=OPS, message_ts=root.ts)
    )
    await until(
        lambda: any("already resolved" in e["text"] for e in site.stub.ephemeral if e["user"] == BOB),
        "Bob told it is resolved already",
    )


async def test_the_catch_up_posts_a_ticket_the_bus_could_not_and_only_once(site: SlackSite) -> None:
    site.stub.rate_limit("chat.postMessage", *([30.0] * 50))  # Slack refuses every post for now
    ticket = await hand_off(site)
    await until(
        lambda: [
            c for c in site.stub.calls if c.method == "chat.postMessage" and c.params.get("channel") == OPS
        ],
        "a first try to post the ticket",
    )
    assert site.stub.posted(OPS) == []
    site.stub.clear_limits()  # Slack accepts posts again
    channel = site.app[keys.CHANNELS]["slack"]
    assert isinstance(channel, SlackChannel) and channel.operators is not None
    await channel.operators.catch_up()
    await channel.operators.catch_up()
    roots = [m for m in site.stub.posted(OPS) if not m.thread_ts]
    assert len(roots) == 1 and ticket.number in roots[0].text
    thread = await channel.records.ticket_thread(ticket.id) if channel.records else None
    assert thread is not None and thread.ts == roots[0].ts
    # a note the bus could not mirror (Slack refusing again) is mirrored by the next catch-up, once
    site.stub.rate_limit("chat.postMessage", *([30.0] * 50))
    alice = await get_user(site.app[keys.SESSIONS], "alice")
    tries = len(site.stub.calls_of("chat.postMessage"))
    await site.app[keys.OPERATORS].add_note(ticket.conversation_id, alice, "Called her back, no answer")
    await until(lambda: len(site.stub.calls_of("chat.postMessage")) > tries, "the bus' try, refused")
    site.stub.clear_limits()
    await channel.operators.catch_up()
    await channel.operators.catch_up()
    mirrored = [m for m in site.stub.posted(OPS, roots[0].ts) if "Called her back" in m.text]
    assert len(mirrored) == 1 and "internal note" in mirrored[0].text


async def test_the_reply_to_customer_shortcut_sends_ones_own_note(site: SlackSite) -> None:
    ticket = await hand_off(site)
    root = await root_of(site)
    text = "Your refund was approved today"
    note = channel_message(ALICE, text, "1800000510.000001", OPS, thread_ts=root.ts)
    assert (await site.slack.event(note))[0] == 200
    assert not any(text in m.text for m in site.stub.posted(DM))  # a note first
    borrowed = message_shortcut(
        BOB,
        "guichet_reply_to_customer",
        channel=OPS,
        ts="1800000510.000001",
        thread_ts=root.ts,
        author=ALICE,
        text=text,
    )
    assert (await site.slack.action(borrowed))[0] == 200
    await until(
        lambda: any("only your own" in e["text"] for e in site.stub.ephemeral if e["user"] == BOB),
        "Bob cannot send Alice's note",
    )
    own = message_shortcut(
        ALICE,
        "guichet_reply_to_customer",
        channel=OPS,
        ts="1800000510.000001",
        thread_ts=root.ts,
        author=ALICE,
        text=text,
    )
    assert (await site.slack.action(own))[0] == 200
    assert (await site.slack.action(own))[0] == 200  # used twice: sent once
    await until(lambda: [m for m in site.stub.posted(DM, ASKED) if m.text == text], "the note sent to Carol")
    kinds = [(m.kind, m.text) for m in await site.messages(ticket.conversation_id) if m.text == text]
    assert sorted(k.value for k, _ in kinds) == ["message", "note"]
    assert len([m for m in site.stub.posted(DM, ASKED) if m.text == text]) == 1
