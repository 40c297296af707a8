"""What the parsing pipeline returns: frozen value objects, no behaviour beyond views.

``parse_message`` (in :mod:`channels.email.parse`) turns raw bytes into one
:class:`ParsedMail`. Nothing here touches a database or the network. New fields are
only ever added with defaults, so code built on these classes keeps working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# ``[#G-1042]`` in the subject: the group is the ticket reference ``G-1042``.
DEFAULT_SUBJECT_TOKEN = re.compile(r"\[#([A-Za-z][A-Za-z0-9]{0,15}-\d{1,12})\]")


class MailClass(StrEnum):
    """Every inbound mail gets exactly one class (and a reason string)."""

    CUSTOMER = "customer"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    SPAM_OR_MALFORMED = "spam_or_malformed"


@dataclass(frozen=True, slots=True)
class Address:
    address: str  # as written (local part kept, domain lower-cased); "" if unreadable
    name: str = ""  # display name, decoded


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One kept attachment or inline image, with its bytes (stored by reference)."""

    filename: str  # safe to use as a file name and to show
    content_type: str  # "application/pdf"; as declared, lower-cased
    size: int  # decoded bytes
    data: bytes = field(repr=False)
    content_id: str | None = None  # without <>, for ``cid:`` references in the HTML
    inline: bool = False  # Content-Disposition inline (or a cid image without one)
    original_filename: str | None = None  # as the sender named it (decoded), for display
    filename_changes: tuple[str, ...] = ()  # what was neutralised: "bidi control", ...


@dataclass(frozen=True, slots=True)
class OmittedAttachment:
    """An attachment over the limits: counted and explained, its bytes not kept."""

    filename: str  # safe name
    content_type: str
    size: int  # decoded size when known, else the encoded size
    reason: str  # "over the 10 MiB size limit for one attachment", ...


@dataclass(frozen=True, slots=True)
class BounceRecipient:
    """One recipient of a delivery-status notification."""

    recipient: str  # the address that failed (Final-Recipient / Original-Recipient)
    status: str  # "5.1.1", "4.4.7"; "" when the report gives none
    action: str = ""  # failed | delayed | delivered | relayed | expanded
    diagnostic: str = ""  # Diagnostic-Code text, cut to a readable length

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5") or (not self.status and self.action == "failed")

    @property
    def temporary(self) -> bool:
        return self.status.startswith("4") or (not self.status and self.action == "delayed")


@dataclass(frozen=True, slots=True)
class BounceReport:
    """A delivery-status notification: RFC 3464 (``kind="dsn"``) or a legacy text bounce."""

    kind: str  # "dsn" | "legacy"
    original_message_id: str | None  # the message it reports on, without <>
    recipients: tuple[BounceRecipient, ...] = ()
    reporting_mta: str = ""

    @property
    def permanent(self) -> bool:
        """At least one recipient failed for good (5.x.x)."""
        return any(r.permanent for r in self.recipients)

    @property
    def temporary(self) -> bool:
        """Only delays (4.x.x) reported, no permanent failure."""
        return not self.permanent and any(r.temporary for r in self.recipients)


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Caps that keep a hostile message from hanging the parser or blowing memory."""

    max_depth: int = 12  # nested multipart / message/rfc822 levels
    max_parts: int = 250  # MIME parts in the whole tree
    max_parse_seconds: float = 5.0  # wall time for one message (checked between steps)
    max_attachments: int = 25
    max_attachment_bytes: int = 15 * 1024 * 1024  # one attachment, decoded
    max_total_attachment_bytes: int = 30 * 1024 * 1024  # all kept attachments
    max_text_chars: int = 500_000  # text/HTML bodies beyond this are cut (noted in problems)
    max_header_bytes: int = 256 * 1024  # the header block; beyond it the mail is malformed


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """One inbound message as the pipeline understood it."""

    mail_class: MailClass
    class_reason: str
    automatic_reply_allowed: bool  # False for anything but a plain customer mail
    raw_size: int
    message_id: str | None = None  # normalised, without <>
    in_reply_to: tuple[str, ...] = ()  # ids without <>
    references: tuple[str, ...] = ()  # ids without <>, oldest first
    subject: str = ""  # decoded
    subject_token: str | None = None  # "G-1042" from "[#G-1042]"
    plus_tokens: tuple[str, ...] = ()  # TOKEN from support+TOKEN@domain in To/Cc/Delivered-To
    sender: Address | None = None  # From (the first one)
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    delivered_to: tuple[str, ...] = ()
    return_path: str | None = None  # "" for the null sender ``<>``
    date: datetime | None = None
    auto_submitted: str | None = None  # the header's value, lower-cased
    language: str | None = None  # "fr" | "en" | ... hint, or None
    text: str = ""  # the new text for the bot: no quoted history, no signature
    quoted: str = ""  # the quoted history that was separated
    signature: str = ""  # the signature that was separated
    full_text: str = ""  # the whole text body (text/plain, else the HTML as text)
    html: str | None = None  # the HTML body as sent (never shown unsanitised)
    html_sanitised: str | None = None  # nh3-cleaned, for the console's sandboxed frame
    attachments: tuple[ParsedAttachment, ...] = ()
    omitted: tuple[OmittedAttachment, ...] = ()
    bounce: BounceReport | None = None
    problems: tuple[str, ...] = ()  # defects repaired or noticed while parsing

    @property
    def from_address(self) -> str | None:
        return self.sender.address if self.sender else None

    @property
    def from_name(self) -> str:
        return self.sender.name if self.sender else ""

    @property
    def omitted_count(self) -> int:
        return len(self.omitted)

    @property
    def omitted_summary(self) -> str:
        """ "2 attachments omitted (...)" or "" when nothing was left out."""
        n = len(self.omitted)
        if not n:
            return ""
        reasons = "; ".join(sorted({o.reason for o in self.omitted}))
        noun = "attachment" if n == 1 else "attachments"
        return f"{n} {noun} omitted ({reasons})"
