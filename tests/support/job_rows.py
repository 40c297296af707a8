"""Rows for job tests, written straight into the tables (no router, no outbox):
a conversation with a message, a ticket, a job in any status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.tables import Conversation, Customer, IdentityRow, Job, Message, Ticket

Sessions = async_sessionmaker[AsyncSession]


async def add_message(
    sessions: Sessions,
    now: datetime,
    *,
    direction: str = "out",
    delivery: str | None = None,
    meta: dict[str, Any] | None = None,
    ticket: bool = False,
    address: str = "visitor-1",
) -> tuple[int, int, int | None]:
    """A conversation with one message (and a ticket); returns (message, conversation, ticket) ids."""
    async with sessions() as session, session.begin():
        customer = Customer(display_name="Bob", lang="en", created_at=now)
        session.add(customer)
        await session.flush()
        ident = IdentityRow(customer_id=customer.id, channel="webchat", address=address, display_name="Bob")
        session.add(ident)
        await session.flush()
        conv = Conversation(customer_id=customer.id, identity_id=ident.id, channel="webchat",
                            thread_key=f"chat-{address}", state="pending", lang="en",
                            created_at=now, updated_at=now)
        session.add(conv)
        await session.flush()
        msg = Message(conversation_id=conv.id, channel="webchat", direction=direction,
                      author_kind="bot" if direction == "out" else "customer", text="Hello",
                      meta=meta or {}, delivery=delivery, quick_replies=[], created_at=now)
        session.add(msg)
        ticket_id = None
        if ticket:
            row = Ticket(number=f"G-{address}", conversation_id=conv.id, status="new", queue="L1",
                         subject="Cannot log in", created_at=now, updated_at=now)
            session.add(row)
            await session.flush()
            ticket_id = row.id
        await session.flush()
        return msg.id, conv.id, ticket_id


async def add_job(
    sessions: Sessions,
    now: datetime,
    *,
    kind: str = "send",
    status: str = "dead",
    payload: dict[str, Any] | None = None,
    attempts: int = 8,
    error: str | None = "TransientDeliveryError: connection refused\nTraceback (most recent call last): ...",
    age: timedelta = timedelta(0),
    locked_by: str | None = None,
) -> int:
    """One job row, last updated ``age`` before ``now``; returns its id."""
    at = now - age
    async with sessions() as session, session.begin():
        job = Job(kind=kind, payload=payload or {}, status=status, attempts=attempts, max_attempts=8,
                  run_at=at, locked_by=locked_by,
                  locked_until=at + timedelta(seconds=60) if locked_by else None,
                  last_error=error, created_at=at, updated_at=at)
        session.add(job)
        await session.flush()
        return job.id
