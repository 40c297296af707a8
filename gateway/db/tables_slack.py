"""The Slack channel's own tables (channels/slack, docs/slack.md).  Portable SQL
only; every change goes through an Alembic migration (0008_slack).

No foreign keys to the core's tables: these rows name Slack objects (channel ids,
message timestamps) and the ticket or conversation they mirror; they hold no text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class SlackEventRow(Base):
    """An Events API ``event_id`` (or an interaction's id) already handled: a retry
    (``X-Slack-Retry-Num``) or a repeated delivery of it is acknowledged and dropped.
    Kept ``slack.event_memory_hours`` (Slack retries within about an hour)."""

    __tablename__ = "slack_events"
    __table_args__ = (Index("ix_slack_events_received_at", "received_at"),)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]


class SlackDmThreadRow(Base):
    """The thread a customer's top-level direct messages continue: one Slack
    thread per conversation, until that conversation is resolved."""

    __tablename__ = "slack_dm_threads"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)  # the DM channel (D...)
    root_ts: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class SlackPostRow(Base):
    """One customer-visible message posted by the outbox, by its idempotency key.
    ``posting`` is written before ``chat.postMessage``: a send found ``posting``
    has an unknown outcome and looks for its key in the thread before posting."""

    __tablename__ = "slack_posts"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # posting | posted
    updated_at: Mapped[datetime]


class SlackTicketThreadRow(Base):
    """A ticket's thread in the operators' channel: its root message (summary,
    console link, buttons) and how far the conversation was mirrored into it."""

    __tablename__ = "slack_ticket_threads"
    __table_args__ = (
        UniqueConstraint("channel", "ts", name="uq_slack_ticket_threads_channel_ts"),
        Index("ix_slack_ticket_threads_conversation", "conversation_id"),
    )
    ticket_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    conversation_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # posting | posted
    mirrored_upto: Mapped[int] = mapped_column(Integer, default=0)  # last message id shown in the thread
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
