"""The desk's contact log, ticket tags and incidents (issue 9).  Portable SQL only;
created by migration 0010 (beside ``ticket_merges``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class TicketContact(Base):
    """One contact with the customer about a ticket and its outcome: a phone call an
    operator logs by hand (direction, duration, note), or the outcome of a contact on
    the ticket's own channel (its messages are already stored)."""

    __tablename__ = "ticket_contacts"
    __table_args__ = (Index("ix_ticket_contacts_ticket", "ticket_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # phone | chat | email | ... (the ticket's own)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(24))  # resolved | escalated | callback | information
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]  # when the contact took place (a logged call may be earlier)
    created_at: Mapped[datetime]


class TicketTag(Base):
    """A free, normalised tag on a ticket (lower case, words joined by ``-``)."""

    __tablename__ = "ticket_tags"
    __table_args__ = (
        UniqueConstraint("ticket_id", "tag"),
        Index("ix_ticket_tags_tag", "tag"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class Incident(Base):
    """A burst of similar tickets: raised by the detector (or a supervisor), answered
    with one status message to every linked ticket, then closed."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    detected: Mapped[bool] = mapped_column(Boolean, default=True)  # False: opened by a supervisor
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status_message: Mapped[str] = mapped_column(Text, default="")  # the last one sent
    announced_at: Mapped[datetime | None]
    announced_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class IncidentTicket(Base):
    """A ticket of an incident: ``suggested`` by the detector, ``linked`` by a
    supervisor.  ``message_id`` is the status message the ticket's customer got
    (set in the same transaction as the message: sent once)."""

    __tablename__ = "incident_tickets"
    __table_args__ = (UniqueConstraint("incident_id", "ticket_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="suggested")  # suggested | linked
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    announced_at: Mapped[datetime | None]
