"""The ticket desk's tables: history, SLA pauses and alerts, queues and their members,
operators' presence and capacity, appointments, canned responses, customer tiers.
Portable SQL only; every change goes through an Alembic migration (0005)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class TicketEvent(Base):
    """One recorded change of a ticket: status, priority, assignment, queue, escalation,
    SLA warning or breach.  ``before``/``after`` hold the changed fields."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))  # status | priority | assign | transfer | ...
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TicketPause(Base):
    """A stretch during which the ticket's SLA clock stood still (pending the customer
    or a third party, resolved); ``ended_at`` NULL: still paused."""

    __tablename__ = "ticket_pauses"
    __table_args__ = (Index("ix_ticket_pauses_ticket", "ticket_id", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))  # the status that paused the clock
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class SlaAlert(Base):
    """A warning or breach of one SLA target in one cycle of its clock (``cycle_at``:
    when that clock started: the ticket's creation, or the customer message a next
    response answers): recorded once, even if the deadline is recomputed later (the
    unique key makes a second sweeper's insert fail); notified within business hours."""

    __tablename__ = "sla_alerts"
    __table_args__ = (
        UniqueConstraint("ticket_id", "target", "kind", "cycle_at", name="uq_sla_alerts_key"),
        Index("ix_sla_alerts_pending", "notified_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(32))  # first_response | next_response | resolution
    kind: Mapped[str] = mapped_column(String(16))  # warning | breach
    cycle_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the deadline when the alert was raised
    created_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]  # NULL: waits for business hours


class Queue(Base):
    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)  # what tickets.queue holds
    label: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[int] = mapped_column(Integer, default=0)  # 1 first level, 2 second level, 0 other
    created_at: Mapped[datetime]


class QueueMember(Base):
    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id", name="uq_queue_members_pair"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class OperatorPresence(Base):
    """Whether an operator takes work now, how much at once, and when they were last
    given a ticket by round-robin.  In the database, so every process sees it."""

    __tablename__ = "operator_presence"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)  # NULL: tickets.default_capacity
    last_assigned_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Appointment(Base):
    """A callback or follow-up agreed on a ticket."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_status_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="callback")  # callback | follow_up
    due_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    # scheduled -> reminded -> done | missed; cancelled
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    customer_told: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class CannedResponse(Base):
    """A reply template; ``{customer_name}``, ``{ticket_number}``, ``{operator_name}``..."""

    __tablename__ = "canned_responses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CustomerTier(Base):
    """A customer's service tier ("gold", "standard"...): SLA policies may depend on it."""

    __tablename__ = "customer_tiers"
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String(32))
