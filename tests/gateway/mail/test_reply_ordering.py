"""The bot may answer a new mail before the mail's own job has filed the thread
(its token, subject and customer): the reply then waits for it rather than write
a thread of its own (on PostgreSQL the two would clash; on either, the reply
would lose the subject).  A mail quarantined meanwhile holds nothing up."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from gateway.db.tables_mail import MailInbound, MailThread
from gateway.flow.jobs import DeferJob
from gateway.mail import outbound as mail_out
from gateway.models import AuthorKind, Identity, Outbound
from tests.support.mail_core import MailCore, make_mail


async def _unfiled(mc: MailCore, status: str) -> Outbound:
    """A conversation opened by a mail, as if its job had not committed its outcome."""
    done = await mc.receive(make_mail(message_id=f"order-{status}@example.org", subject="Refund"))
    async with mc.store.tx() as tx:
        row = await tx.session.get(MailInbound, done.inbound_id)
        assert row is not None and row.conversation_id is not None
        conv_id = row.conversation_id
        await tx.session.execute(delete(MailThread).where(MailThread.conversation_id == conv_id))
        await tx.session.execute(update(MailInbound).where(MailInbound.id == done.inbound_id)
                                 .values(status=status))
        conv = await tx.conversation(conv_id)
        thread_key = conv.thread_key
        reply = await tx.add_message(conv, direction="out", author=AuthorKind.BOT, text="Answer")
    assert thread_key == f"mail-{done.inbound_id}"
    return Outbound(message_id=reply.id, conversation_id=conv_id, channel="email",
                    thread_key=thread_key, recipient=Identity("email", "alice@example.org", "Alice"),
                    text="Answer", author=AuthorKind.BOT, idempotency_key=f"k-{status}")


async def test_a_reply_waits_while_the_mail_it_answers_is_being_filed(mc: MailCore) -> None:
    out = await _unfiled(mc, "received")
    with pytest.raises(DeferJob):
        await mail_out.prepare(mc.mail, out)
    async with mc.store.read() as tx:
        assert await tx.session.get(MailThread, out.conversation_id) is None  # nothing written


async def test_a_reply_to_a_quarantined_mail_does_not_wait(mc: MailCore) -> None:
    out = await _unfiled(mc, "quarantined")
    plan = await mail_out.prepare(mc.mail, out)
    assert plan.reply_to.startswith("support+")
