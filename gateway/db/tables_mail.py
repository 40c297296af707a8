"""The email channel's tables (raw mail, classification, attachments, quarantine,
suppression, threading, loop guards).  Portable SQL only; every change goes
through an Alembic migration (``0004_mail``).

Raw messages and attachment bytes are kept **in the database** (``mail_blobs``,
content-addressed by SHA-256, referenced by the rows that use them): one commit
makes a received message durable before the SMTP 250 or the IMAP flag, nothing
can be half-written between a file and a row, and several processes or machines
on one PostgreSQL see the same bytes.  See docs/email.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class MailBlob(Base):
    """Bytes by reference: a raw message or an attachment, keyed by its SHA-256."""

    __tablename__ = "mail_blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class MailInbound(Base):
    """One received message (SMTP or IMAP), from the moment it is acknowledged.

    ``status``: received (stored, not yet processed) → processed | quarantined;
    quarantined → released (processed again) | deleted.  ``dedupe_key`` is the
    sender's address and the Message-ID: the same mail delivered twice (SMTP
    resend, IMAP re-fetch, both) is stored once."""

    __tablename__ = "mail_inbound"
    __table_args__ = (
        Index("ix_mail_inbound_message_id", "message_id"),
        Index("ix_mail_inbound_status", "status", "id"),
        Index("ix_mail_inbound_conversation", "conversation_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # smtp | imap
    source_ref: Mapped[str] = mapped_column(String(512), unique=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    raw_sha256: Mapped[str] = mapped_column(ForeignKey("mail_blobs.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    envelope_from: Mapped[str] = mapped_column(String(320), default="")
    envelope_to: Mapped[list[Any]] = mapped_column(default=list)
    client: Mapped[str] = mapped_column(String(64), default="")  # SMTP peer address
    message_id: Mapped[str | None] = mapped_column(String(512))  # header, no brackets
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="received")
    mail_class: Mapped[str | None] = mapped_column(String(24))
    class_reason: Mapped[str] = mapped_column(Text, default="")
    quarantine_reason: Mapped[str] = mapped_column(Text, default="")
    clean_text: Mapped[str] = mapped_column(Text, default="")
    quoted: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    thread_rule: Mapped[str] = mapped_column(String(32), default="")  # how it was threaded
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # parser problems, bounces, ...
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    stored_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class MailAttachment(Base):
    """An attachment of an inbound mail; its bytes are a blob (never inline HTML)."""

    __tablename__ = "mail_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("mail_inbound.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("mail_blobs.sha256"))
    content_id: Mapped[str | None] = mapped_column(String(255))
    inline: Mapped[bool] = mapped_column(default=False)


class MailThread(Base):
    """A conversation's email identity: its unguessable plus-address token, the
    subject it started with, and the older conversation it follows (if any)."""

    __tablename__ = "mail_threads"
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    follows_conversation_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class MailParticipant(Base):
    """Addresses that belong to a conversation: its customer and the people on
    To/Cc of our mail in it.  Only they may thread by token."""

    __tablename__ = "mail_participants"
    __table_args__ = (UniqueConstraint("conversation_id", "address", name="uq_mail_participants_conv_addr"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320), index=True)  # normalised
    role: Mapped[str] = mapped_column(String(16), default="cc")  # customer | cc
    created_at: Mapped[datetime]


class MailOutbound(Base):
    """One outbound mail: its Message-ID (found again by replies and bounces)."""

    __tablename__ = "mail_outbound"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    rfc_message_id: Mapped[str] = mapped_column(String(512), unique=True)  # no brackets
    subject: Mapped[str] = mapped_column(String(500), default="")
    automatic: Mapped[bool] = mapped_column(default=False)  # written by the bot
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class MailRecipient(Base):
    """Delivery of one outbound mail to one recipient: queued → sent | failed |
    delayed | suppressed (with the relay's or the bounce's reason)."""

    __tablename__ = "mail_recipients"
    __table_args__ = (UniqueConstraint("outbound_id", "address", name="uq_mail_recipients_out_addr"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbound_id: Mapped[int] = mapped_column(ForeignKey("mail_outbound.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(4), default="to")  # to | cc
    state: Mapped[str] = mapped_column(String(16), default="queued")
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class MailSuppression(Base):
    """An address no mail is sent to (a permanent bounce, or an admin's choice)."""

    __tablename__ = "mail_suppressions"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # normalised
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class MailAutoSend(Base):
    """Every automatic (bot) mail let through the loop guard: the durable record
    the per-sender and per-conversation caps count."""

    __tablename__ = "mail_auto_sends"
    __table_args__ = (
        Index("ix_mail_auto_sends_address", "address", "sent_at"),
        Index("ix_mail_auto_sends_conversation", "conversation_id", "sent_at"),
    )
    message_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # messages.id
    address: Mapped[str] = mapped_column(String(320))  # normalised
    conversation_id: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime]


class MailRateCount(Base):
    """Windowed counts for rate limits shared by every process (SMTP per client)."""

    __tablename__ = "mail_rate_counts"
    __table_args__ = (UniqueConstraint("key", "window_start", name="uq_mail_rate_counts_key_window"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


class MailSuggestion(Base):
    """ "Possibly the same as G-…": a new conversation that a stranger's mail (or
    a mail with a token it may not use) opened, and the one it named."""

    __tablename__ = "mail_suggestions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    candidate_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | accepted | dismissed
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
