"""The ``email`` channel: SMTP in (its listener starts with the channel), mail
out through the relay.  The mail room of the core (:mod:`gateway.mail`) does the
storing, threading, loop guards and bookkeeping; this module speaks SMTP and MIME.

``send`` is called by the core's outbox: a mail is *sent* only once the relay
answered 250 for the customer; a 4xx or a connection problem raises
:class:`TransientDeliveryError` (retried with backoff, the same Message-ID, only to
the recipients not yet accepted); a 5xx is a failed delivery with the relay's
reason.  Withheld mail (suppressed address, loop guard, a machine) is failed with
the reason, shown on the conversation.
"""

from __future__ import annotations

import logging

from channels.email.compose import render
from channels.email.facts import parse_to_facts
from channels.email.smtp_in import SmtpListener
from channels.email.smtp_out import RelayConfig, RelayPermanent, RelayTemporary, deliver
from gateway.flow.channel_context import ChannelContext
from gateway.mail import outbound as mail_out
from gateway.mail.service import MailService
from gateway.models import Delivery, DeliveryStatus, Outbound, TransientDeliveryError
from gateway.protocols import AcceptFn

log = logging.getLogger(__name__)


class EmailChannel:
    name = "email"

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.mail: MailService | None = None
        self.listener: SmtpListener | None = None
        self.accept: AcceptFn | None = None

    def bind_mail(self, mail: MailService) -> None:
        """Called by the composition root: the core's mail room, and our parser for it."""
        self.mail = mail
        mail.parser = parse_to_facts

    # ---------------------------------------------------------------- Channel
    async def start(self, accept: AcceptFn) -> None:
        self.accept = accept  # mail enters through gateway.mail.ingest, which calls the core
        if self.mail is None:
            raise RuntimeError("the email channel needs the mail room (gateway.mail.wiring.setup_mail)")
        if self.mail.cfg.smtp_listen:
            self.listener = SmtpListener(self.mail)
            await self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None

    async def send(self, outbound: Outbound) -> Delivery:
        mail = self.mail
        if mail is None:
            raise TransientDeliveryError("the email channel is not bound to the mail room yet")
        plan = await mail_out.prepare(mail, outbound)
        if plan.withheld:
            return Delivery(DeliveryStatus.FAILED, plan.withheld)
        if plan.to not in plan.pending:  # accepted by the relay on an earlier attempt
            return Delivery(
                DeliveryStatus.SENT, "accepted by the relay earlier", external_id=plan.rfc_message_id
            )
        # rendered on the loop: in a thread (asyncio.to_thread) it took as much CPU and,
        # holding the GIL, did not let SMTP sessions through any sooner (2 cores, measured)
        message = render(outbound, plan, self.ctx.clock.now())
        recipients = list(plan.pending)
        try:
            refused = await deliver(
                RelayConfig.from_settings(mail.cfg), message, plan.from_address, recipients
            )
        except RelayTemporary as exc:
            await mail_out.record(mail, plan, {a: (mail_out.QUEUED, f"retrying: {exc}") for a in recipients})
            raise TransientDeliveryError(str(exc)) from exc
        except RelayPermanent as exc:
            await mail_out.record(mail, plan, {a: (mail_out.FAILED, str(exc)) for a in recipients})
            return Delivery(DeliveryStatus.FAILED, str(exc))
        outcomes: dict[str, tuple[str, str]] = {}
        for address in recipients:
            code, text = refused.get(address, (250, "accepted"))
            if code < 400:
                outcomes[address] = (mail_out.SENT, f"{code} {text}")
            elif code < 500 and address == plan.to:
                outcomes[address] = (mail_out.QUEUED, f"retrying: {code} {text}")
            else:
                outcomes[address] = (mail_out.FAILED, f"{code} {text}")
        await mail_out.record(mail, plan, outcomes)
        state, detail = outcomes[plan.to]
        if state == mail_out.QUEUED:
            raise TransientDeliveryError(f"relay deferred {plan.to}: {detail}")
        if state == mail_out.FAILED:
            return Delivery(DeliveryStatus.FAILED, f"relay refused {plan.to}: {detail}")
        return Delivery(DeliveryStatus.SENT, f"relay accepted: {detail}", external_id=plan.rfc_message_id)


def create_channel(ctx: ChannelContext) -> EmailChannel:
    return EmailChannel(ctx)
