"""The SQL store (SQLAlchemy 2 async): SQLite by default, PostgreSQL for several
workers.  ``accept_inbound`` is the one place a customer message enters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.clock import Clock
from gateway.config import Settings
from gateway.db.tables import Job, Message
from gateway.flow.tx import Tx, message_view
from gateway.language import detect
from gateway.models import AcceptResult, AuthorKind, ConversationState, Inbound
from gateway.protocols import EventBus
from gateway.views import ConversationView, MessageView


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lock: str


class Store(Protocol):
    def tx(self) -> Any:  # async context manager yielding a Tx
        ...

    async def accept_inbound(self, inbound: Inbound) -> AcceptResult: ...

    async def history(
        self, channel: str, thread_key: str
    ) -> tuple[ConversationView | None, list[MessageView]]: ...

    async def claim_jobs(self, worker: str, limit: int) -> list[JobView]: ...

    async def finish_job(self, job: JobView) -> None: ...

    async def retry_job(self, job: JobView, error: str, delay: float | None) -> bool: ...


class SqlStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        bus: EventBus,
        on_jobs: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.bus = bus
        self._on_jobs = on_jobs
        self._claim_lock = asyncio.Lock()

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Tx]:
        """A transaction; its events are published, and workers woken, after commit."""
        async with self.sessions() as session, session.begin():
            tx = Tx(session, self.clock, self.settings)
            yield tx
        for event in tx.events:
            await self.bus.publish(event)
        if tx.jobs_added and self._on_jobs:
            self._on_jobs()

    # ---------------------------------------------------------------- inbound
    async def accept_inbound(self, inbound: Inbound) -> AcceptResult:
        """Store one customer message and its routing job in one transaction.

        Idempotent on ``(channel, external_id)``: a redelivery returns the first
        message with ``duplicate=True`` and stores nothing.  The channel acks its
        peer only after this returned.
        """
        existing = await self._find_external(inbound.channel, inbound.external_id)
        if existing:
            metrics.MESSAGES_DUPLICATE.labels(inbound.channel).inc()
            return existing
        try:
            async with self.tx() as tx:
                ident = await tx.identity_for(inbound.sender)
                conv = await tx.latest_conversation(inbound.channel, inbound.thread_key)
                if conv is None:
                    lang = detect(inbound.text, inbound.language_hint)
                    conv = await tx.open_conversation(ident, inbound.channel, inbound.thread_key, lang)
                elif conv.state == ConversationState.RESOLVED.value:
                    tx.set_state(conv, ConversationState.BOT)  # a new message reopens it
                meta: dict[str, Any] = {}
                if inbound.quick_reply:
                    meta["quick_reply"] = inbound.quick_reply
                if inbound.language_hint:
                    meta["language_hint"] = inbound.language_hint
                if inbound.auto_submitted:
                    meta["auto_submitted"] = True
                if inbound.bounce:
                    meta["bounce"] = True
                if inbound.attachments:
                    meta["attachments"] = [
                        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "ref": a.ref}
                        for a in inbound.attachments
                    ]
                msg = await tx.add_message(
                    conv,
                    direction="in",
                    author=AuthorKind.CUSTOMER,
                    author_name=inbound.sender.display_name,
                    text=inbound.text,
                    html=inbound.html,
                    external_id=inbound.external_id,
                    meta=meta,
                    created_at=inbound.received_at,
                )
                tx.enqueue("route", {"message_id": msg.id})
                result = AcceptResult(msg.id, conv.id, duplicate=False)
        except IntegrityError:
            # A concurrent delivery of the same external id committed first.
            existing = await self._find_external(inbound.channel, inbound.external_id)
            if existing is None:
                raise
            metrics.MESSAGES_DUPLICATE.labels(inbound.channel).inc()
            return existing
        metrics.MESSAGES_ACCEPTED.labels(inbound.channel).inc()
        return result

    async def _find_external(self, channel: str, external_id: str) -> AcceptResult | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(Message.id, Message.conversation_id).where(
                        Message.channel == channel, Message.external_id == external_id
                    )
                )
            ).first()
        return AcceptResult(row[0], row[1], duplicate=True) if row else None

    async def history(
        self, channel: str, thread_key: str
    ) -> tuple[ConversationView | None, list[MessageView]]:
        async with self.tx() as tx:
            conv = await tx.latest_conversation(channel, thread_key)
            if conv is None:
                return None, []
            msgs = await tx.messages(conv.id, include_internal=False)
            return await tx.conversation_view(conv), [message_view(m) for m in msgs]

    # ------------------------------------------------------------------- jobs
    async def claim_jobs(self, worker: str, limit: int = 1) -> list[JobView]:
        """Take up to ``limit`` due jobs: queued ones, and running ones whose
        lease expired (their worker died).  One atomic UPDATE; on PostgreSQL the
        inner SELECT uses ``FOR UPDATE SKIP LOCKED``."""
        now = self.clock.now()
        lock = f"{worker}:{uuid.uuid4().hex[:12]}"
        lease = now + timedelta(seconds=self.settings.jobs.lease_seconds)
        due = (
            select(Job.id)
            .where(
                or_(
                    and_(Job.status == "queued", Job.run_at <= now),
                    and_(Job.status == "running", Job.locked_until < now),
                )
            )
            .order_by(Job.run_at, Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(Job)
            .where(Job.id.in_(due.scalar_subquery()))
            .values(
                status="running",
                locked_by=lock,
                locked_until=lease,
                attempts=Job.attempts + 1,
                updated_at=now,
            )
            .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
            .execution_options(synchronize_session=False)
        )
        async with self._claim_lock, self.sessions() as session, session.begin():
            rows = (await session.execute(stmt)).all()
        return [JobView(r[0], r[1], dict(r[2] or {}), r[3], r[4], lock) for r in rows]

    async def finish_job(self, job: JobView) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.locked_by == job.lock)
                .values(status="done", locked_until=None, updated_at=self.clock.now())
            )

    async def retry_job(self, job: JobView, error: str, delay: float | None) -> bool:
        """Schedule another attempt after ``delay`` seconds, or mark the job dead
        (``delay`` None, or attempts used up).  Returns True if it will run again."""
        now = self.clock.now()
        again = delay is not None and job.attempts < job.max_attempts
        values: dict[str, Any] = {
            "status": "queued" if again else "dead",
            "locked_until": None,
            "last_error": error[:2000],
            "updated_at": now,
        }
        if again:
            assert delay is not None
            values["run_at"] = now + timedelta(seconds=delay)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Job).where(Job.id == job.id, Job.locked_by == job.lock).values(**values)
            )
        return again

    async def next_job_due(self) -> datetime | None:
        async with self.sessions() as session:
            return (
                await session.execute(
                    select(Job.run_at).where(Job.status == "queued").order_by(Job.run_at).limit(1)
                )
            ).scalar_one_or_none()
