"""RFC 3834 by author: the bot's answer is ``auto-replied``; the satisfaction
survey (a system message) is ``auto-generated`` and, answering no mail, is not
held back by the automatic-reply caps; a person's reply carries neither."""

from __future__ import annotations

from gateway.db.tables_mail import MailInbound
from gateway.models import AuthorKind
from tests.support.mail_core import MailCore, make_mail


async def test_the_survey_mail_is_auto_generated_and_not_capped_as_a_reply(mc: MailCore) -> None:
    first = await mc.receive(make_mail("I cannot reset my password.", message_id="csat1@example.org"))
    [answer] = mc.sink.wait_for(1)
    assert answer.message["Auto-Submitted"] == "auto-replied"  # the bot answered
    async with mc.store.tx() as tx:  # what gateway.reports.csat.create_survey writes
        row = await tx.session.get(MailInbound, first.inbound_id)
        assert row is not None and row.conversation_id is not None
        conv = await tx.lock_conversation(row.conversation_id)
        await tx.add_message(conv, direction="out", author=AuthorKind.SYSTEM,
                             text="How did we do? https://help.example.org/csat/t0k3n",
                             meta={"csat": {"url": "https://help.example.org/csat/t0k3n", "scale": [1, 5]}})
    await mc.drain()
    sent = mc.sink.wait_for(2)
    survey = sent[1].message
    assert sent[1].rcpt_tos == ["alice@example.org"]
    assert survey["Auto-Submitted"] == "auto-generated"
    assert survey["X-Auto-Response-Suppress"] == "All"
    assert "csat/t0k3n" in survey.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_an_operators_reply_carries_no_auto_submitted(mc: MailCore) -> None:
    first = await mc.receive(make_mail("Invoice question", subject="Invoice", message_id="op1@example.org"))
    mc.sink.wait_for(1)
    async with mc.store.tx() as tx:
        row = await tx.session.get(MailInbound, first.inbound_id)
        assert row is not None and row.conversation_id is not None
        conv = await tx.lock_conversation(row.conversation_id)
        await tx.add_message(conv, direction="out", author=AuthorKind.OPERATOR, author_name="Sam",
                             text="Hello Alice, the refund went out today.")
    await mc.drain()
    reply = mc.sink.wait_for(2)[1].message
    assert reply["Auto-Submitted"] is None and reply["X-Auto-Response-Suppress"] is None
    assert reply["In-Reply-To"] == "<op1@example.org>"
