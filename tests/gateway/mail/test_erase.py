"""GDPR erase reaches the email room: a customer's raw mail, attachments' bytes,
thread tokens, participants and outbound mail records are gone afterwards."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.audit.log import Actor
from gateway.customers.service import erase_customer
from gateway.db.tables import Conversation
from gateway.db.tables_mail import (
    MailBlob,
    MailInbound,
    MailOutbound,
    MailParticipant,
    MailRecipient,
    MailThread,
)
from tests.support.mail_core import MailCore, make_mail


async def test_erase_removes_the_customers_mail(mc: MailCore) -> None:
    result = await mc.receive(make_mail("My secret order 4471 is late.", message_id="e1@example.org"))
    mc.sink.wait_for(1)
    await mc.drain()
    async with mc.store.read() as tx:
        row = await tx.session.get(MailInbound, result.inbound_id)
        assert row is not None and row.conversation_id
        conv = await tx.session.get(Conversation, row.conversation_id)
        assert conv is not None
        customer_id = conv.customer_id
        before = {t.__tablename__: await tx.session.scalar(select(func.count()).select_from(t))
                  for t in (MailInbound, MailBlob, MailThread, MailOutbound, MailRecipient)}
    assert all((n or 0) >= 1 for n in before.values()), before

    removed = await erase_customer(mc.store.sessions, customer_id, actor=Actor.system("test"),
                                   clock=mc.store.clock)

    assert removed["mail_inbound"] == 1
    async with mc.store.read() as tx:
        for table in (MailInbound, MailBlob, MailThread, MailParticipant, MailOutbound, MailRecipient):
            left = await tx.session.scalar(select(func.count()).select_from(table))
            assert left == 0, table.__tablename__
