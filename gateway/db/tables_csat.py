"""The satisfaction surveys' table (CSAT): one survey per resolved ticket, one answer
per survey.  The link's token is stored only as its SHA-256.  Portable SQL only;
created by migration 0009."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class CsatSurvey(Base):
    __tablename__ = "csat_surveys"
    __table_args__ = (
        Index("ix_csat_surveys_sent_at", "sent_at"),
        Index("ix_csat_surveys_answered_at", "answered_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the link's token
    lang: Mapped[str] = mapped_column(String(8), default="")
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)  # 1..5
    comment: Mapped[str] = mapped_column(Text, default="")
