"""Ticket merges: the pointer from a merged (closed) ticket to the one it went into,
and what the merge moved.  Portable SQL only; created by migration 0010."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class TicketMerge(Base):
    """Ticket ``source`` (B) merged into ``target`` (A): B's conversation history moved
    into A's conversation, B closed.  A ticket is merged away at most once
    (``source_ticket_id`` unique).  A merge from an email suggestion whose new
    conversation had no ticket has no source ticket; the conversations are always known."""

    __tablename__ = "ticket_merges"
    __table_args__ = (Index("ix_ticket_merges_target", "target_ticket_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    target_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    source_conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    target_conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    moved_messages: Mapped[int] = mapped_column(Integer, default=0)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)  # two customers, by a supervisor
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("mail_suggestions.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
