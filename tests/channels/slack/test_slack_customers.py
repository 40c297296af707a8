"""The customers' side: one Slack thread per conversation, DMs and mentions, what is
ignored on purpose (the app itself, other bots, joins), and edits and deletions."""

from __future__ import annotations

from sqlalchemy import select

from gateway.db.tables import Conversation, Message
from gateway.models import ConversationState
from gateway.web import keys
from tests.channels.slack.conftest import CAROL, SlackSite, until
from tests.support.slack_requests import channel_message, dm
from tests.support.slack_stub import BOT_ID, BOT_USER

DM = "D0CAROL"


async def conversations(site: SlackSite) -> list[Conversation]:
    async with site.app[keys.SESSIONS]() as session:
        return list((await session.execute(select(Conversation).order_by(Conversation.id))).scalars())


async def inbound(site: SlackSite) -> list[Message]:
    async with site.app[keys.SESSIONS]() as session:
        stmt = select(Message).where(Message.direction == "in").order_by(Message.id)
        return list((await session.execute(stmt)).scalars())


async def test_top_level_dms_continue_one_thread_until_the_conversation_is_resolved(site: SlackSite) -> None:
    await site.slack.event(dm(CAROL, "hello", "1800000300.000001", channel=DM))
    await site.slack.event(dm(CAROL, "How do I reset my password?", "1800000301.000001", channel=DM))
    answer = await until(
        lambda: [m for m in site.stub.posted(DM) if "reset-password" in m.text], "the answer"
    )
    assert answer[0].thread_ts == "1800000300.000001"  # the first message's thread
    [conv] = await conversations(site)
    assert conv.thread_key == f"{DM}:1800000300.000001" and conv.channel == "slack"
    async with site.app[keys.STORE].tx() as tx:
        tx.set_state(await tx.lock_conversation(conv.id), ConversationState.RESOLVED)
    await site.slack.event(dm(CAROL, "How do I reset my password again?", "1800000302.000001", channel=DM))
    again = await until(lambda: site.stub.posted(DM, "1800000302.000001"), "the answer in a new thread")
    assert "reset-password" in again[0].text
    first, second = await conversations(site)
    assert second.thread_key == f"{DM}:1800000302.000001" and second.customer_id == first.customer_id
    # a reply inside the old thread goes to the old conversation
    await site.slack.event(
        dm(CAROL, "one more thing", "1800000303.000001", channel=DM, thread_ts="1800000300.000001")
    )
    last = (await inbound(site))[-1]
    assert last.conversation_id == first.id and last.text == "one more thing"


async def test_the_app_itself_other_bots_and_joins_are_not_customers(site: SlackSite) -> None:
    events = [
        dm(BOT_USER, "our own answer", "1800000310.000001", channel=DM, bot_id=BOT_ID),
        dm("U0OTHERBOT", "beep", "1800000311.000001", channel=DM, bot_id="B0OTHER"),
        dm("U0OTHERBOT", "beep", "1800000312.000001", channel=DM, subtype="bot_message"),
        dm(
            CAROL,
            "<@U0CAROL> has joined the channel",
            "1800000313.000001",
            channel=DM,
            subtype="channel_join",
        ),
        channel_message(CAROL, "chatting in #general, not to the app", "1800000314.000001", "C0GENERAL"),
    ]
    for event in events:
        assert (await site.slack.event(event))[0] == 200
    assert await inbound(site) == [] and site.stub.messages == []


async def test_a_mention_starts_a_thread_and_the_thread_continues_without_mention(site: SlackSite) -> None:
    mention = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": CAROL,
        "ts": "1800000320.000001",
        "text": f"<@{BOT_USER}> how do I reset my password? &amp; see <https://x.example/a|this>",
        "event_ts": "1800000320.000001",
    }
    assert (await site.slack.event(mention))[0] == 200
    answer = await until(lambda: site.stub.posted("C0GENERAL", "1800000320.000001"), "the answer")
    assert "reset-password" in answer[0].text
    [message] = await inbound(site)
    assert message.text == "how do I reset my password? & see this (https://x.example/a)"
    followup = channel_message(
        CAROL, "thanks", "1800000321.000001", "C0GENERAL", thread_ts="1800000320.000001"
    )
    assert (await site.slack.event(followup))[0] == 200
    assert [m.text for m in await inbound(site)][-1] == "thanks"
    # the message twin of the mention (message.channels) is the same message
    twin = channel_message(CAROL, mention["text"], "1800000320.000001", "C0GENERAL")
    assert (await site.slack.event(twin))[0] == 200
    assert len(await inbound(site)) == 2


async def test_a_customers_edit_and_deletion_become_notes_not_new_questions(site: SlackSite) -> None:
    await site.slack.event(dm(CAROL, "How do I reset my password?", "1800000330.000001", channel=DM))
    await until(lambda: site.stub.posted(DM), "the answer")
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": DM,
        "channel_type": "im",
        "ts": "1800000331.000001",
        "message": {
            "type": "message",
            "user": CAROL,
            "text": "How do I reset my PIN?",
            "ts": "1800000330.000001",
        },
        "previous_message": {"type": "message", "user": CAROL, "text": "How do I reset my password?"},
    }
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": DM,
        "channel_type": "im",
        "ts": "1800000332.000001",
        "deleted_ts": "1800000330.000001",
        "previous_message": {"type": "message", "user": CAROL, "ts": "1800000330.000001", "text": "x"},
    }
    assert (await site.slack.event(edited))[0] == 200
    assert (await site.slack.event(deleted))[0] == 200
    [conv] = await conversations(site)
    notes = [m for m in await site.messages(conv.id) if m.kind.value == "note"]
    assert [n.text for n in notes] == [
        "The customer edited this message in Slack; it now reads: How do I reset my PIN?",
        "The customer deleted a message in Slack (its text is kept here).",
    ]
    assert len(await inbound(site)) == 1 and len(site.stub.posted(DM)) == 1  # no second answer
