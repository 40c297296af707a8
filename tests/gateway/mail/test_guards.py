"""Loop guards, bounces, the suppression list and outbound durability."""

from __future__ import annotations

from sqlalchemy import select

from gateway.db.tables import Message
from gateway.db.tables_mail import MailInbound, MailSuppression
from gateway.mail import inspect
from tests.support.mail_core import MailCore, make_mail


async def row(mc: MailCore, inbound_id: int) -> MailInbound:
    async with mc.store.read() as tx:
        found = await tx.session.get(MailInbound, inbound_id)
        assert found is not None
        return found


async def bot_messages(mc: MailCore, conversation_id: int) -> list[Message]:
    async with mc.store.read() as tx:
        return [m for m in await tx.messages(conversation_id, include_internal=False) if m.direction == "out"]


async def test_nothing_automatic_answers_an_auto_reply_a_list_or_a_machine(mc: MailCore) -> None:
    ooo = make_mail(
        "I am out of office until Monday.",
        subject="Automatic reply: hi",
        headers={"Auto-Submitted": "auto-replied"},
    )
    listmail = make_mail(
        "Weekly news",
        sender="news@lists.example.org",
        headers={"List-Id": "<news.example.org>", "Precedence": "list"},
    )
    daemon = make_mail("password help", sender="MAILER-DAEMON@example.org", subject="password")
    for raw in (ooo, listmail, daemon):
        await mc.receive(raw)
    await mc.drain()
    assert mc.sink.messages == []
    async with mc.store.read() as tx:
        rows = list((await tx.session.execute(select(MailInbound).order_by(MailInbound.id))).scalars())
    assert [r.mail_class for r in rows[:2]] == ["auto_reply", "list"]
    assert all(r.class_reason for r in rows)


async def test_at_most_one_automatic_reply_per_sender_per_day(mc: MailCore) -> None:
    first = await mc.receive(make_mail("password reset please", subject="A"))
    second = await mc.receive(make_mail("another password question", subject="B"))
    assert len(mc.sink.wait_for(1)) == 1
    await mc.drain()
    assert len(mc.sink.messages) == 1
    conv2 = (await row(mc, second.inbound_id)).conversation_id
    assert conv2 is not None and conv2 != (await row(mc, first.inbound_id)).conversation_id
    [withheld] = await bot_messages(mc, conv2)
    assert withheld.delivery == "failed" and "loop guard" in withheld.meta["delivery_detail"]
    mc.clock.advance(hours=25)  # a day later the cap is free again
    await mc.receive(make_mail("password once more", subject="C"))
    assert len(mc.sink.wait_for(2)) == 2


async def test_at_most_n_automated_mails_per_conversation_per_hour(mc: MailCore) -> None:
    mc.settings.email.auto_replies_per_sender_per_day = 100
    mc.settings.email.automated_per_conversation_per_hour = 2
    done = await mc.receive(make_mail("Hello", subject="Hello"))  # small talk: answered every time
    our = mc.sink.wait_for(1)[0].message["Message-ID"].strip("<>")
    for text in ("Thanks!", "Hello", "Thank you"):
        await mc.receive(make_mail(text, in_reply_to=our))
    await mc.drain()
    assert len(mc.sink.messages) == 2
    conv = (await row(mc, done.inbound_id)).conversation_id
    assert conv is not None
    states = [m.delivery for m in await bot_messages(mc, conv)]
    assert states.count("sent") == 2 and states.count("failed") >= 1


def dsn(original: str, recipient: str, status: str, action: str) -> bytes:
    boundary = "BOUNDARY"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nDelivery to {recipient} failed.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} user unknown\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original}>\r\nTo: {recipient}\r\n"
        f"--{boundary}--\r\n"
    )
    head = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: support@guichet.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-" + status + "@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
    )
    return (head + body).encode()


async def test_a_permanent_bounce_fails_the_mail_and_suppresses_the_address(mc: MailCore) -> None:
    done = await mc.receive(make_mail("password help"))
    conv = (await row(mc, done.inbound_id)).conversation_id
    assert conv is not None
    ours = mc.sink.wait_for(1)[0].message["Message-ID"].strip("<>")
    bounce = await mc.receive(dsn(ours, "alice@example.org", "5.1.1", "failed"))
    b = await row(mc, bounce.inbound_id)
    assert b.mail_class == "bounce" and b.conversation_id == conv and b.status == "processed"
    [reply] = await bot_messages(mc, conv)
    assert reply.delivery == "failed" and "5.1.1" in reply.meta["delivery_detail"]
    async with mc.store.read() as tx:
        assert await tx.session.get(MailSuppression, "alice@example.org") is not None
        notes = [m.text for m in await tx.messages(conv, include_internal=True) if m.kind == "note"]
    assert any("suppressed" in n for n in notes)
    out = (await inspect.outbound_list(mc.mail, conv))[0]
    assert out["recipients"][0]["state"] == "failed"
    # every later mail to the address is withheld, operator's too
    mc.clock.advance(days=2)
    await mc.receive(make_mail("password again", subject="again"))
    await mc.drain()
    assert len(mc.sink.messages) == 1


async def test_a_delay_report_marks_delayed_and_suppresses_nothing(mc: MailCore) -> None:
    done = await mc.receive(make_mail("password help"))
    conv = (await row(mc, done.inbound_id)).conversation_id
    assert conv is not None
    ours = mc.sink.wait_for(1)[0].message["Message-ID"].strip("<>")
    await mc.receive(dsn(ours, "alice@example.org", "4.4.7", "delayed"))
    [reply] = await bot_messages(mc, conv)
    assert reply.delivery == "sent" and reply.meta["delivery_detail"].startswith("delayed")
    async with mc.store.read() as tx:
        assert await tx.session.get(MailSuppression, "alice@example.org") is None


async def test_a_bounce_about_nothing_we_sent_is_quarantined(mc: MailCore) -> None:
    done = await mc.receive(dsn("never-ours@elsewhere", "zed@example.org", "5.1.1", "failed"))
    r = await row(mc, done.inbound_id)
    assert r.status == "quarantined" and "did not send" in r.quarantine_reason


async def test_relay_down_keeps_replies_queued_then_delivers_each_once(mc: MailCore) -> None:
    mc.sink.down()
    try:
        await mc.receive(make_mail("password help", sender="p1@example.org"))
        await mc.receive(make_mail("password help", sender="p2@example.org"))
        async with mc.store.read() as tx:
            out = list(
                (
                    await tx.session.execute(
                        select(Message).where(Message.direction == "out", Message.kind == "message")
                    )
                ).scalars()
            )
        assert len(out) == 2 and {m.delivery for m in out} == {"queued"}
        assert all("retrying" in m.meta.get("delivery_detail", "") for m in out)
    finally:
        mc.sink.up()
    mc.clock.advance(seconds=600)  # the retries are due
    await mc.drain()
    received = mc.sink.wait_for(2)
    await mc.drain()
    assert sorted(r.rcpt_tos[0] for r in mc.sink.messages) == ["p1@example.org", "p2@example.org"]
    assert len(received) == 2
    async with mc.store.read() as tx:
        states = (
            await tx.session.execute(
                select(Message.delivery).where(Message.direction == "out", Message.kind == "message")
            )
        ).scalars()
        assert set(states) == {"sent"}


async def test_a_relay_5xx_fails_the_mail_with_the_relays_reason(mc: MailCore) -> None:
    mc.sink.refuse_rcpt["alice@example.org"] = "550 5.7.1 relaying denied"
    done = await mc.receive(make_mail("password help"))
    conv = (await row(mc, done.inbound_id)).conversation_id
    assert conv is not None
    [reply] = await bot_messages(mc, conv)
    assert reply.delivery == "failed" and "550" in reply.meta["delivery_detail"]
    assert "relaying denied" in reply.meta["delivery_detail"]


async def test_a_relay_4xx_is_retried_with_the_same_message_id(mc: MailCore) -> None:
    mc.sink.data_reply = "451 4.3.0 try later"
    await mc.receive(make_mail("password help"))
    assert mc.sink.messages == []
    mc.sink.data_reply = ""
    mc.clock.advance(seconds=600)
    await mc.drain()
    [got] = mc.sink.wait_for(1)
    async with mc.store.read() as tx:
        msg = (
            await tx.session.execute(
                select(Message).where(Message.direction == "out", Message.kind == "message")
            )
        ).scalar_one()
    assert got.message["Message-ID"].startswith(f"<{msg.outbound_key}.")
    assert msg.delivery == "sent"
