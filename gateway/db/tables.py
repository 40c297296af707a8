"""The store's tables.  Portable SQL only: the same schema runs on SQLite and
PostgreSQL, and every change goes through an Alembic migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    lang: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime]


class IdentityRow(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_identities_channel_address"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    """An operator or admin account for the console."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))  # operator | admin
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class SessionRow(Base):
    """A console login session; the cookie holds a secret whose hash is the key."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_channel_thread", "channel", "thread_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    thread_key: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), default="bot")
    lang: Mapped[str] = mapped_column(String(8), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(512))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(Integer)  # users.id for operators
    author_name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default="message")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    quick_replies: Mapped[list[Any]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delivery: Mapped[str | None] = mapped_column(String(16))  # queued|sending|sent|stored|failed
    # The idempotency key of an outbound message, handed to the channel (the email
    # Message-ID, Slack's client message id): a retry never makes a second copy.
    outbound_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Ticket(Base):
    """A case handed to people.  Lifecycle, priority, queue and SLA columns belong to
    the ticket desk (:mod:`gateway.tickets`); its history is in ``ticket_events`` and
    ``ticket_pauses`` (:mod:`gateway.db.tables_tickets`), from which the SLA
    deadlines here are recomputed (they are a cache for listing and sorting)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_queue", "status", "queue"),
        Index("ix_tickets_sla_due", "sla_due"),
        Index("ix_tickets_assignee", "assignee_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # new | open | pending_customer | pending_third_party | resolved | closed
    status: Mapped[str] = mapped_column(String(24), default="new")
    queue: Mapped[str] = mapped_column(String(32), default="L1")
    priority: Mapped[str] = mapped_column(String(16), default="P3")  # P1 (highest) .. P4
    urgency: Mapped[str] = mapped_column(String(16), default="medium")  # low | medium | high
    impact: Mapped[str] = mapped_column(String(16), default="medium")  # low | medium | high
    category: Mapped[str] = mapped_column(String(64), default="")  # e.g. "complaint"
    subject: Mapped[str] = mapped_column(String(300), default="")
    handoff_reason: Mapped[str] = mapped_column(String(64), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_due: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]  # the first HUMAN reply; never overwritten
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]  # moved to second level
    # The SLA policy chosen for the ticket; NULL until the desk initialised the ticket.
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    next_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    sla_due: Mapped[datetime | None]  # the earliest running deadline (for sorting)
    sla_paused: Mapped[bool] = mapped_column(Boolean, default=False)


class Job(Base):
    """Durable work: taken by workers, retried with backoff, resumed after restart."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_conversation", "conversation_id", "kind", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # route | send | ...
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    conversation_id: Mapped[int | None] = mapped_column(Integer)  # its jobs run in order
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ArticleDraft(Base):
    """An article drafted from a resolved ticket, waiting for an admin's approval."""

    __tablename__ = "article_drafts"
    __table_args__ = (Index("ix_article_drafts_status", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | approved | rejected
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list[Any]] = mapped_column(default=list)  # question variants
    lang: Mapped[str] = mapped_column(String(8), default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    article_id: Mapped[str | None] = mapped_column(String(200))  # set when approved
    index_version: Mapped[str | None] = mapped_column(String(64))  # the version built on approval
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
