"""What :func:`gateway.mail.outbound.prepare` decides before a mail is sent (the
plan the email channel composes and relays), and the rules both of its paths share
(the ORM's and SQLite's plain SQL, :mod:`gateway.mail.outbound_sql`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.flow.jobs import DeferJob
from gateway.mail.addresses import is_robot
from gateway.mail.service import MailService
from gateway.models import AuthorKind

SENT, FAILED, QUEUED, SUPPRESSED = "sent", "failed", "queued", "suppressed"


@dataclass(frozen=True, slots=True)
class QuotedMail:
    author: str
    date: datetime
    text: str


@dataclass(frozen=True, slots=True)
class OutboundPlan:
    rfc_message_id: str  # without <>
    from_address: str
    from_name: str
    reply_to: str  # our address with the conversation's plus token
    to: str
    pending: tuple[str, ...]  # recipients still to send to (not sent, not suppressed)
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]
    automatic: bool
    lang: str
    quoted: QuotedMail | None = None
    withheld: str | None = None  # why nothing is sent (suppressed, loop guard, a machine)
    kinds: dict[str, str] = field(default_factory=dict)  # address -> to | cc
    auto_submitted: str | None = None  # RFC 3834: auto-replied (the bot), auto-generated (a survey)


def auto_submitted(author: AuthorKind) -> str | None:
    """RFC 3834's ``Auto-Submitted`` of a mail by ``author``: the bot answers a
    customer's mail (``auto-replied``); a system message (the satisfaction survey)
    is sent by a machine on its own (``auto-generated``); a person's reply has none."""
    if author is AuthorKind.BOT:
        return "auto-replied"
    if author is AuthorKind.SYSTEM:
        return "auto-generated"
    return None


def first_mail(thread_key: str) -> int | None:
    """The ``mail_inbound`` id that opened a conversation (thread key ``mail-<id>``)."""
    prefix, _, number = thread_key.partition("-")
    return int(number) if prefix == "mail" and number.isdigit() else None


def still_filing(status: str | None) -> DeferJob | None:
    """The mail that opened a conversation is still being processed (its job writes the
    conversation's thread: token, subject, customer), so a reply to it waits a moment
    rather than write a thread of its own (the bot may answer before that job's last
    transaction commits).  A mail quarantined or deleted meanwhile waits for nothing."""
    if status == "received":
        return DeferJob(0.05, "the mail this answers is still being filed")
    return None


def message_id_for(mail: MailService, key: str) -> str:
    return f"{key}.{mail.sign('message-id', key, 16)}@{mail.id_domain}"


def withheld_before_guard(
    mail: MailService, customer: str, blocked: dict[str, str], automatic: bool
) -> str | None:
    """Why nothing is sent, as far as the address alone tells (the loop guard's
    counts come after, for automatic mail only)."""
    if customer in blocked:
        return f"not sent: {customer} is on the suppression list ({blocked[customer]})"
    if customer.endswith(".invalid") or "@" not in customer:
        return f"not sent: no address to reply to ({customer or 'none'})"
    if mail.own.accepts(customer):
        return f"not sent: {customer} is one of our own addresses"
    if automatic and is_robot(customer):
        return f"not sent: {customer or 'the null sender'} is a machine, not a person"
    return None


def cc_wanted(mail: MailService, customer: str, participants: list[str]) -> list[tuple[str, str]]:
    """The recipients of a new outbound mail: the customer on To, the participants on Cc."""
    wanted = [(customer, "to")]
    for address in participants:
        if address != customer and not mail.own.accepts(address) and not is_robot(address):
            wanted.append((address, "cc"))
    return wanted[:20]


def subject_for(base: str, ticket_number: str | None) -> str:
    subject = f"Re: {base}" if base else "Your request"
    if ticket_number:
        subject = f"{subject} [#{ticket_number}]"
    return subject[:500]


def thread_ids(
    last_in: tuple[str, list[Any]] | None, ours_newest_first: list[str]
) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To (the customer's latest mail) and References (its chain, then ours)."""
    refs: list[str] = []
    parent = None
    if last_in is not None and last_in[0]:
        refs = [str(r) for r in last_in[1]][-10:]
        refs.append(last_in[0])
        parent = last_in[0]
    for mid in reversed(ours_newest_first):
        if mid not in refs:
            refs.append(mid)
    return parent, tuple(refs[-20:])
