"""The SQL store (SQLAlchemy 2 async): SQLite by default, PostgreSQL for several
workers.  ``accept_inbound`` is the one place a customer message enters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.clock import Clock
from gateway.config import Settings
from gateway.db.engine import SQLITE_BEGIN, is_sqlite
from gateway.flow import job_queue
from gateway.flow.group_commit import GroupCommitter
from gateway.flow.hot_sql import FreshMessage, HotSql
from gateway.flow.hot_sql import IntegrityError as SqliteIntegrityError
from gateway.flow.job_queue import JobView, LeaseLost
from gateway.flow.tx import Tx, message_view
from gateway.language import detect
from gateway.models import AcceptResult, AuthorKind, ConversationState, Inbound
from gateway.protocols import EventBus
from gateway.views import ConversationView, MessageView

T = TypeVar("T")

DeadHandler = Callable[[Tx, JobView, str], Awaitable[None]]
"""Makes a dead job visible, in the transaction that buries it (see ``JobRunner``)."""


class Store(Protocol):
    def tx(self, *, fast: bool = False, urgent: bool = False) -> Any:  # async context manager: a Tx
        ...

    async def accept_inbound(self, inbound: Inbound) -> AcceptResult: ...

    async def history(
        self, channel: str, thread_key: str
    ) -> tuple[ConversationView | None, list[MessageView]]: ...


class SqlStore:
    """Transactions on the store.  :meth:`tx` is a *write* transaction: on SQLite
    it runs in a transaction begun ``IMMEDIATE`` (holding the write lock from its
    first read, so what it read stays true until it commits), one writer after the
    other, and writers that arrive together share one commit
    (:mod:`gateway.flow.group_commit`); on PostgreSQL rows are locked where state
    is decided (``Tx.lock_conversation``).  :meth:`read` is a read-only snapshot."""

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
        bind = sessions.kw.get("bind")
        self.sqlite = bind is not None and is_sqlite(bind)
        self.group = GroupCommitter(sessions) if self.sqlite else None
        # Set by a job runner that takes fast-path work: called after a commit
        # with the jobs that transaction claimed for this process.
        self.on_claimed: Callable[[list[JobView]], None] | None = None

    @asynccontextmanager
    async def tx(
        self, *, fast: bool = False, urgent: bool = False, plain: bool = False, light: bool = False
    ) -> AsyncIterator[Tx]:
        """A write transaction; its events are published, and workers woken (or its
        fast-path jobs started), after commit.  ``urgent``: a peer waits for its ack
        (on SQLite it goes before the queued background work).  ``plain``: on SQLite
        the body writes through ``tx.hot`` only, never the ORM (a cheaper savepoint,
        :mod:`gateway.flow.group_commit`); ``light``: plain, and it may be written in a
        light batch (no ORM session connects, ``tx.session`` must not be used)."""
        async with self._session(urgent, plain, light) as session:
            tx = self._new_tx(session, fast)
            yield tx
            if tx.claimed:
                await session.flush()
            claimed = tx.claimed_jobs()
        await self._committed(tx, claimed)

    async def apply(self, body: Callable[[Tx], Awaitable[T]], *, fast: bool = False,
                    urgent: bool = False, light: bool = True) -> T:
        """:meth:`tx` for a body that writes through ``tx.hot`` only (plain SQL): on
        SQLite the group commit's leader runs it itself, with no turn of the event
        loop (:meth:`GroupCommitter.run`), in a light batch unless ``light`` is False;
        returns the body's value after the commit.  Elsewhere it is ``tx()`` (``tx.hot``
        is then None: the body takes the ORM path)."""
        if self.group is None:
            async with self.tx(fast=fast, urgent=urgent) as tx:
                return await body(tx)

        async def unit(session: AsyncSession) -> tuple[T, Tx, list[JobView]]:
            tx = self._new_tx(session, fast)
            value = await body(tx)
            return value, tx, tx.claimed_jobs()

        value, tx, claimed = await self.group.run(unit, urgent=urgent, light=light)
        await self._committed(tx, claimed)
        return value

    def _new_tx(self, session: AsyncSession, fast: bool) -> Tx:
        tx = Tx(session, self.clock, self.settings, fast_path=fast and self.on_claimed is not None)
        if self.sqlite:
            tx.hot = HotSql(session)
        return tx

    async def _committed(self, tx: Tx, claimed: list[JobView]) -> None:
        """After the commit: events published, workers woken, fast-path jobs started."""
        for event in tx.events:
            await self.bus.publish(event)
        if tx.jobs_added and self._on_jobs:
            self._on_jobs()
        if claimed and self.on_claimed is not None:
            self.on_claimed(claimed)

    @asynccontextmanager
    async def _session(
        self, urgent: bool, plain: bool = False, light: bool = False
    ) -> AsyncIterator[AsyncSession]:
        if self.group is not None:  # SQLite: one writer; concurrent writers share a commit
            async with self.group.unit(urgent=urgent, plain=plain, light=light) as session:
                yield session
        else:
            async with self.sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only snapshot (it must not write)."""
        async with self.sessions() as session, session.begin():
            if self.sqlite:
                await session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
            yield Tx(session, self.clock, self.settings)

    # ---------------------------------------------------------------- inbound
    async def accept_inbound(self, inbound: Inbound) -> AcceptResult:
        """Store one customer message and its routing job in one transaction.

        Idempotent on ``(channel, external_id)``: a redelivery returns the first
        message with ``duplicate=True`` and stores nothing.  The channel acks its
        peer only after this returned.  On the fast path the routing job is claimed
        by this process and runs right after the commit.
        """
        try:  # SQLite: tx.hot.accept, run by the group commit's leader
            result = await self.apply(lambda tx: self._accept(tx, inbound), fast=True, urgent=True)
        except (IntegrityError, SqliteIntegrityError):
            # A redelivery: its external id is stored already (by an earlier or a
            # concurrent accept), so this one stored nothing; answer with the first.
            async with self.read() as tx:
                existing = await tx.find_external(inbound.channel, inbound.external_id)
            if existing is None:
                raise
            result = existing
        if result.duplicate:
            metrics.MESSAGES_DUPLICATE.labels(inbound.channel).inc()
        else:
            metrics.MESSAGES_ACCEPTED.labels(inbound.channel).inc()
        return result

    @staticmethod
    async def _accept(tx: Tx, inbound: Inbound) -> AcceptResult:
        # A redelivery is found by the unique (channel, external_id) of its message:
        # the insert fails, this unit rolls back, and accept_inbound reads the first.
        if tx.hot is not None:  # SQLite: the same, in plain SQL
            lang = detect(inbound.text, inbound.language_hint)
            return await tx.hot.accept(tx, inbound, _inbound_meta(inbound), lang)
        ident = await tx.identity_for(inbound.sender)
        await tx.lock_thread(inbound.channel, inbound.thread_key)
        conv = await tx.latest_conversation(inbound.channel, inbound.thread_key)
        fresh = conv is None
        if conv is None:
            lang = detect(inbound.text, inbound.language_hint)
            conv = await tx.open_conversation(ident, inbound.channel, inbound.thread_key, lang)
        else:
            conv = await tx.lock_conversation(conv.id)
            if conv.state == ConversationState.RESOLVED.value:
                tx.set_state(conv, ConversationState.BOT)  # a new message reopens it
        msg = await tx.add_message(
            conv,
            direction="in",
            author=AuthorKind.CUSTOMER,
            author_name=inbound.sender.display_name,
            text=inbound.text,
            html=inbound.html,
            external_id=inbound.external_id,
            meta=_inbound_meta(inbound),
            created_at=inbound.received_at,
        )
        job = tx.enqueue("route", {"message_id": msg.id, "conversation_id": conv.id})
        if fresh:  # the router needs read nothing: no history, no earlier message
            tx.prepare(job, FreshMessage(msg, conv, ident))
        return AcceptResult(msg.id, conv.id, duplicate=False)

    async def history(
        self, channel: str, thread_key: str
    ) -> tuple[ConversationView | None, list[MessageView]]:
        async with self.read() as tx:
            conv = await tx.latest_conversation(channel, thread_key)
            if conv is None:
                return None, []
            msgs = await tx.messages(conv.id, include_internal=False)
            return await tx.conversation_view(conv), [message_view(m) for m in msgs]

    # ------------------------------------------------------------------- jobs
    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.jobs.lease_seconds)

    async def claim_jobs(self, worker: str, limit: int = 1) -> list[JobView]:
        """Take up to ``limit`` due jobs, each under a fresh lease token."""
        async with self.tx() as tx:
            return await job_queue.claim(tx.session, worker, limit, tx.now(), self.lease)

    async def expired_jobs(self) -> list[JobView]:
        """Jobs whose worker died on their last attempt, taken to be dead-lettered."""
        async with self.tx() as tx:
            return await job_queue.expired_past_attempts(tx.session, tx.now(), self.lease)

    async def finish_job(self, job: JobView) -> bool:
        """Mark done (a job whose handler had no effects to commit with it).
        False when the lease was lost: another worker holds the job."""
        try:
            async with self.tx() as tx:
                await tx.complete_job(job)
        except LeaseLost:
            return False
        return True

    async def retry_job(self, job: JobView, error: str, delay: float) -> bool:
        """Queue another attempt after ``delay`` seconds; False if the lease was lost."""
        try:
            async with self.tx() as tx:
                run_at = tx.now() + timedelta(seconds=delay)
                await job_queue.reschedule(tx.session, job, error, run_at, tx.now())
        except LeaseLost:
            return False
        return True

    async def defer_job(self, job: JobView, seconds: float) -> bool:
        """Put the job back for later without counting an attempt."""
        try:
            async with self.tx() as tx:
                await job_queue.defer(tx.session, job, seconds, tx.now())
        except LeaseLost:
            return False
        return True

    async def kill_job(self, job: JobView, error: str, on_dead: DeadHandler | None) -> bool:
        """Dead-letter the job and make it visible (``on_dead``) in one transaction.
        False if the lease was lost."""
        try:
            async with self.tx() as tx:
                if on_dead is not None:
                    await on_dead(tx, job, error)
                await job_queue.bury(tx.session, job, error, tx.now())
        except LeaseLost:
            return False
        return True

    async def renew_leases(self, tokens: list[str]) -> int:
        if not tokens:
            return 0
        async with self.tx() as tx:
            return await job_queue.renew(tx.session, tokens, tx.now() + self.lease)


def _inbound_meta(inbound: Inbound) -> dict[str, Any]:
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
    return meta
