"""No mail loop: Guichet and a test auto-responder that answers every mail it gets
exchange mail through the real SMTP listener and the sink relay; Guichet sends at
most one automatic reply to it, polite (RFC 3834 headers) or naive (none)."""

from __future__ import annotations

import asyncio
import smtplib

import pytest
from sqlalchemy import func, select

from gateway.db.tables_mail import MailInbound
from tests.channels.email.smtp_fixtures import Listening, listening, sink  # noqa: F401
from tests.support.mail_core import make_mail
from tests.support.smtp_sink import Received

pytestmark = pytest.mark.parametrize("migrated", ["sqlite", "postgresql"], indirect=True)
ROBOT = "robot@autoresponder.test"


def responder(port: int, *, polite: bool, answered: list[str]):  # type: ignore[no-untyped-def]
    """Answers every mail the relay carries to the robot, to its Reply-To, at once."""

    def on_message(received: Received) -> None:
        if ROBOT not in received.rcpt_tos:
            return
        msg = received.message
        headers = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"} if polite else {}
        reply = make_mail(
            "Thank you for your message. We will get back to you shortly.",
            sender=f"Robot <{ROBOT}>",
            to=msg["Reply-To"],
            subject=f"Re: {msg['Subject']}",
            in_reply_to=msg["Message-ID"].strip("<>"),
            headers=headers,
        )
        answered.append(msg["Message-ID"])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(ROBOT, [msg["Reply-To"]], reply)

    return on_message


async def settle(listening: Listening) -> None:  # noqa: F811
    """Run jobs until nothing moves: no job ran and no new mail arrived for a while."""
    mc, quiet, last = listening.mc, 0, -1
    for _ in range(200):
        ran = await mc.drain()
        async with mc.store.read() as tx:
            count = await tx.session.scalar(select(func.count()).select_from(MailInbound))
        quiet = quiet + 1 if ran == 0 and count == last else 0
        if quiet >= 10:
            return
        last = count or 0
        await asyncio.sleep(0.1)
    raise AssertionError("the exchange never settled: a loop")


@pytest.mark.parametrize("polite", [True, False], ids=["polite", "naive"])
async def test_an_auto_responder_gets_at_most_one_automatic_reply(
    listening: Listening,  # noqa: F811
    polite: bool,
) -> None:
    mc = listening.mc
    answered: list[str] = []
    mc.sink.on_message.append(responder(listening.port, polite=polite, answered=answered))
    first = make_mail("Hello, how do I reset my password?", sender=f"Robot <{ROBOT}>")
    await asyncio.to_thread(
        lambda: smtplib.SMTP("127.0.0.1", listening.port, timeout=10).sendmail(
            ROBOT, ["support@guichet.test"], first
        )
    )
    await settle(listening)
    to_robot = [m for m in mc.sink.messages if ROBOT in m.rcpt_tos]
    assert len(to_robot) == 1, [m.message["Subject"] for m in to_robot]
    assert to_robot[0].message["Auto-Submitted"] == "auto-replied"
    assert len(answered) == 1  # the robot answered our one mail, and that was the end of it
    async with mc.store.read() as tx:
        classes = list(
            (await tx.session.execute(select(MailInbound.mail_class).order_by(MailInbound.id))).scalars()
        )
    assert classes == ["customer", "auto_reply" if polite else "customer"]
