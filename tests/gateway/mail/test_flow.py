"""A customer's mail becomes a conversation, the bot's reply leaves through the
relay with threading and loop-stopping headers, and the customer's reply lands
in the same conversation."""

from __future__ import annotations

from sqlalchemy import select

from gateway.db.tables import Conversation, Message
from gateway.db.tables_mail import MailInbound
from gateway.mail import inspect
from tests.support.mail_core import MailCore, make_mail


async def inbound_row(mc: MailCore, inbound_id: int) -> MailInbound:
    async with mc.store.read() as tx:
        row = await tx.session.get(MailInbound, inbound_id)
        assert row is not None
        return row


async def messages(mc: MailCore, conversation_id: int) -> list[Message]:
    async with mc.store.read() as tx:
        return await tx.messages(conversation_id, include_internal=True)


async def test_customer_mail_gets_one_threaded_bot_reply(mc: MailCore) -> None:
    result = await mc.receive(make_mail(message_id="q1@example.org"))
    row = await inbound_row(mc, result.inbound_id)
    assert row.status == "processed" and row.mail_class == "customer" and row.conversation_id
    sent = mc.sink.wait_for(1)
    assert len(sent) == 1 and sent[0].rcpt_tos == ["alice@example.org"]
    msg = sent[0].message
    assert msg["In-Reply-To"] == "<q1@example.org>"
    assert "<q1@example.org>" in msg["References"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Reply-To"].startswith("support+") and msg["Reply-To"].endswith("@guichet.test")
    assert msg["Message-ID"].endswith("@guichet.test>")
    assert msg["Subject"].startswith("Re: Password problem")
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Answer of reset-password" in text
    assert "1. Yes, solved" in text and "2. No, talk to a person" in text
    assert "reach a person" in text
    assert "> Hello, I cannot reset my password." in text  # the quoted history
    assert msg.get_body(("html",)) is not None

    # the outbound mail is inspectable, per recipient, with its Message-ID
    outs = await inspect.outbound_list(mc.mail, row.conversation_id)
    assert outs[0]["rfc_message_id"] == msg["Message-ID"].strip("<>")
    assert outs[0]["recipients"] == [
        {**outs[0]["recipients"][0], "address": "alice@example.org", "state": "sent", "kind": "to"}
    ]
    assert outs[0]["delivery"] == "sent"

    # the customer's reply, from a client that rewrites References, lands in the same conversation
    reply = make_mail(
        "1", subject="Re: Password problem", in_reply_to=msg["Message-ID"].strip("<>"), references=["other@x"]
    )
    again = await mc.receive(reply)
    row2 = await inbound_row(mc, again.inbound_id)
    assert row2.conversation_id == row.conversation_id and row2.thread_rule == "our_message_id"
    msgs = await messages(mc, row.conversation_id)
    inbound = [m for m in msgs if m.direction == "in"]
    assert inbound[-1].meta.get("quick_reply") == "solved"  # "1" is the first numbered line


async def test_the_same_mail_twice_is_stored_once(mc: MailCore) -> None:
    raw = make_mail(message_id="dup@example.org")
    first = await mc.receive(raw)
    second = await mc.receive(raw)  # another delivery (new source_ref), same sender + Message-ID
    assert second.duplicate and second.inbound_id == first.inbound_id
    async with mc.store.read() as tx:
        rows = (await tx.session.execute(select(MailInbound.id))).all()
        convs = (await tx.session.execute(select(Conversation.id))).all()
    assert len(rows) == 1 and len(convs) == 1
    assert len(mc.sink.wait_for(1)) == 1


async def test_email_answers_only_above_its_stricter_threshold(mc: MailCore) -> None:
    mc.settings.bot.answer_threshold = 0.7  # chat would answer 0.8; email asks 0.85
    await mc.receive(make_mail("Where is my invoice for March?", subject="Invoice"))
    sent = mc.sink.wait_for(1)
    plain = sent[0].message.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Answer of invoices" not in text and "ticket number is G-" in text
    assert "[#G-" in sent[0].message["Subject"]


async def test_inbound_mail_is_findable_by_message_id_with_class_and_text(mc: MailCore) -> None:
    body = "My invoice is wrong.\n\n-- \nAlice\nACME\n\nOn Mon, Bob wrote:\n> earlier text"
    await mc.receive(make_mail(body, message_id="find-me@example.org"))
    found = await inspect.inbound_list(mc.mail, message_id="<find-me@example.org>")
    assert len(found) == 1
    detail = await inspect.inbound_detail(mc.mail, found[0]["id"])
    assert detail["class"] == "customer" and detail["class_reason"]
    assert "My invoice is wrong." in detail["clean_text"] and "ACME" not in detail["clean_text"]
    assert detail["conversation_id"] is not None
