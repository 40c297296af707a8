"""What the core's mail room needs from a parsed message, and the parser port.

The email channel adapts its MIME parser's result to :class:`MailFacts`; the
core never imports the channel (arrows point one way), so these value objects
are the whole contract between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

CUSTOMER = "customer"
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
LIST = "list"
SPAM_OR_MALFORMED = "spam_or_malformed"
MAIL_CLASSES = (CUSTOMER, AUTO_REPLY, BOUNCE, LIST, SPAM_OR_MALFORMED)


@dataclass(frozen=True, slots=True)
class MailAddress:
    address: str  # as written; compare with gateway.mail.addresses.normalise
    name: str = ""


@dataclass(frozen=True, slots=True)
class MailFile:
    """An attachment (or inline image) with its bytes and a safe file name."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # inline ``cid:`` images
    inline: bool = False


@dataclass(frozen=True, slots=True)
class BounceFacts:
    """One recipient of a delivery-status notification (RFC 3464 or legacy)."""

    recipient: str
    status: str  # "5.1.1", "4.4.7"; "" when unknown
    action: str = ""  # failed | delayed | delivered | relayed | expanded
    diagnostic: str = ""
    original_message_id: str | None = None  # the message the report is about


@dataclass(frozen=True, slots=True)
class MailFacts:
    """One message as the parser understood it."""

    mail_class: str  # one of MAIL_CLASSES
    class_reason: str
    message_id: str | None = None  # without angle brackets
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    sender: MailAddress | None = None  # From
    reply_to: tuple[MailAddress, ...] = ()
    to: tuple[MailAddress, ...] = ()
    cc: tuple[MailAddress, ...] = ()
    subject: str = ""
    subject_token: str | None = None  # "G-1042" from "[#G-1042]"
    plus_tokens: tuple[str, ...] = ()  # TOKEN from support+TOKEN@ on To/Cc/Delivered-To
    return_path: str | None = None  # "" for the null sender
    automatic_reply_allowed: bool = False  # only a plain customer mail may get one
    date: datetime | None = None
    text: str = ""  # the new text for the bot: no quotes, no signature
    quoted: str = ""
    signature: str = ""
    full_text: str = ""  # the whole text part (or the HTML as text)
    html: str | None = None  # the message's HTML as sent (sanitised when shown)
    html_sanitised: str | None = None
    attachments: tuple[MailFile, ...] = ()
    omitted_attachments: int = 0  # over the limits: not kept
    omitted_summary: str = ""  # "2 attachments omitted (...)"
    bounces: tuple[BounceFacts, ...] = ()
    language: str | None = None
    problems: tuple[str, ...] = ()  # defects the parser repaired or noticed
    extra: dict[str, str] = field(default_factory=dict)


class MailParser(Protocol):
    """Parses raw bytes; never raises on bad input (it classifies it instead),
    though the caller still guards against a crash or a timeout."""

    def __call__(self, raw: bytes, own_addresses: Sequence[str]) -> MailFacts: ...
