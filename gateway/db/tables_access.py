"""Access and accountability: the audit log and API tokens.  Portable SQL only;
every change goes through an Alembic migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class AuditEntry(Base):
    """One change: who (a person, a token acting for one, the system or the command
    line), what (``action`` on ``subject_type``/``subject_id``), when, and the state
    before and after.  Written in the transaction of the change it records."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject", "subject_type", "subject_id", "id"),
        Index("ix_audit_log_at", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))  # user | token | cli | system | anonymous
    actor_id: Mapped[int | None] = mapped_column(Integer)  # users.id (kept when the user goes)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    token_id: Mapped[int | None] = mapped_column(Integer)  # api_tokens.id when acting by token
    action: Mapped[str] = mapped_column(String(64))  # "user.create", "ticket.take", ...
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    remote: Mapped[str] = mapped_column(String(64), default="")  # the client's address, if any


class ApiToken(Base):
    """A scoped API token an admin created.  The token is shown once; only its
    SHA-256 is stored.  It acts as ``user_id`` with at most that user's role."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
