"""Looking after the durable jobs: list them, show one, retry dead ones, purge old
done ones.  Used by ``guichet jobs`` (:mod:`gateway.flow.jobs_cli`), the admin page
``/admin/jobs`` (:mod:`gateway.web.jobs_admin`) and housekeeping.

A retry is only for a dead job, and it undoes what the job's death made visible
where that is safe: a dead ``send`` job's message goes from delivery ``failed``
back to ``queued`` in the same transaction.  A dead ``route`` job whose message
was already handed to an operator is refused: the operator has it, a second
routing would answer or hand off twice.

Each retry is one transaction whose first statement is the guarded
``UPDATE jobs ... WHERE status = 'dead'``: two admins retrying the same job at
once retry it once, and on SQLite the write lock is taken before anything is read.
Portable SQL only (SQLite and PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.db.tables import Job, Message, Ticket
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.job_queue import DEAD, DONE, QUEUED, RUNNING
from gateway.models import DeliveryStatus

STATUSES = (QUEUED, RUNNING, DEAD, DONE)


class RetryRefused(ConflictError):
    """The job cannot be retried (not dead, or its work was already taken over)."""


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    kind: str
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    updated_at: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    payload: dict[str, Any]

    @property
    def error_line(self) -> str:
        """The first line of the last error ("" if none)."""
        return (self.last_error or "").strip().split("\n", 1)[0]

    @property
    def message_id(self) -> int | None:
        value = self.payload.get("message_id")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "run_at": self.run_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "error": self.error_line,
            "message_id": self.message_id,
            "payload": self.payload,
        }
        if full:
            data["last_error"] = self.last_error
            data["locked_by"] = self.locked_by
            data["locked_until"] = self.locked_until.isoformat() if self.locked_until else None
        return data


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a job's message lives: its conversation and that conversation's latest ticket."""

    message_id: int
    conversation_id: int
    ticket_id: int | None
    delivery: str | None


@dataclass
class RetryReport:
    retried: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # job id -> reason

    def to_dict(self) -> dict[str, Any]:
        return {"retried": self.retried, "refused": {str(k): v for k, v in self.refused.items()}}


def _info(job: Job) -> JobInfo:
    return JobInfo(
        id=job.id,
        kind=job.kind,
        status=job.status,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_at=job.run_at,
        created_at=job.created_at,
        updated_at=job.updated_at,
        locked_by=job.locked_by,
        locked_until=job.locked_until,
        last_error=job.last_error,
        payload=dict(job.payload or {}),
    )


def check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise InvalidInputError(f"unknown job status {status!r}; one of: {', '.join(STATUSES)}")


class JobAdmin:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    # ---------------------------------------------------------------- reading
    async def list_jobs(
        self, status: str | None = None, kind: str | None = None, limit: int = 50
    ) -> list[JobInfo]:
        """Jobs, newest first, optionally of one status and kind."""
        check_status(status)
        stmt = select(Job).order_by(Job.id.desc()).limit(max(1, limit))
        if status is not None:
            stmt = stmt.where(Job.status == status)
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        async with self.sessions() as session:
            return [_info(job) for job in (await session.execute(stmt)).scalars()]

    async def get_job(self, job_id: int) -> JobInfo:
        async with self.sessions() as session:
            job = await session.get(Job, job_id)
            if job is None:
                raise NotFoundError(f"no job {job_id}")
            return _info(job)

    async def counts(self) -> dict[str, int]:
        """How many jobs in each status (every status listed, zeros included)."""
        stmt = select(Job.status, func.count(Job.id)).group_by(Job.status)
        async with self.sessions() as session:
            found = {status: int(n) for status, n in (await session.execute(stmt)).all()}
        return {status: found.pop(status, 0) for status in STATUSES} | found

    async def message_refs(self, message_ids: list[int]) -> dict[int, MessageRef]:
        """The conversation (and its latest ticket) of each message that exists."""
        if not message_ids:
            return {}
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(Message.id, Message.conversation_id, Message.delivery).where(
                        Message.id.in_(set(message_ids))
                    )
                )
            ).all()
            conversations = {row[1] for row in rows}
            tickets: dict[int, int] = {}
            if conversations:
                latest = (
                    select(Ticket.conversation_id, func.max(Ticket.id))
                    .where(Ticket.conversation_id.in_(conversations))
                    .group_by(Ticket.conversation_id)
                )
                tickets = {cid: tid for cid, tid in (await session.execute(latest)).all()}
        return {mid: MessageRef(mid, cid, tickets.get(cid), delivery) for mid, cid, delivery in rows}

    # ---------------------------------------------------------------- writing
    async def retry_job(self, job_id: int) -> JobInfo:
        """Queue a dead job again, now, with its attempts reset (its last error kept).

        Raises :class:`NotFoundError` for an unknown job and :class:`RetryRefused`
        when the job is not dead or its work was already taken over."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            revived = (
                await session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == DEAD)
                    .values(
                        status=QUEUED, attempts=0, run_at=now, locked_by=None,
                        locked_until=None, updated_at=now,
                    )
                    .returning(Job.kind, Job.payload)
                    .execution_options(synchronize_session=False)
                )
            ).first()
            if revived is None:
                status = (await session.execute(select(Job.status).where(Job.id == job_id))).scalar()
                if status is None:
                    raise NotFoundError(f"no job {job_id}")
                raise RetryRefused(f"job {job_id} is {status}, only dead jobs can be retried")
            kind, payload = revived[0], dict(revived[1] or {})
            await self._revive_message(session, job_id, kind, payload)
        return await self.get_job(job_id)

    async def _revive_message(
        self, session: AsyncSession, job_id: int, kind: str, payload: dict[str, Any]
    ) -> None:
        """Undo what the job's death made visible on its message (same transaction);
        raising rolls the retry back."""
        message_id = payload.get("message_id")
        if kind not in ("route", "send") or not isinstance(message_id, int):
            return
        message = (
            await session.execute(select(Message).where(Message.id == message_id).with_for_update())
        ).scalar_one_or_none()
        if message is None:
            raise RetryRefused(f"message {message_id} of job {job_id} no longer exists; nothing to retry")
        meta = dict(message.meta or {})
        if kind == "route" and meta.get("routed"):
            raise RetryRefused(f"message {message_id} was already handed to an operator; nothing to retry")
        if kind == "send" and message.delivery == DeliveryStatus.FAILED.value:
            meta.pop("delivery_detail", None)
            await session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(delivery=DeliveryStatus.QUEUED.value, meta=meta)
                .execution_options(synchronize_session=False)
            )

    async def retry_dead(self, kind: str | None = None) -> RetryReport:
        """Retry every dead job (of one kind); each in its own transaction, refusals
        reported, not raised."""
        stmt = select(Job.id).where(Job.status == DEAD).order_by(Job.id)
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        async with self.sessions() as session:
            ids = list((await session.execute(stmt)).scalars())
        report = RetryReport()
        for job_id in ids:
            try:
                await self.retry_job(job_id)
            except (RetryRefused, NotFoundError) as exc:
                report.refused[job_id] = str(exc)
            else:
                report.retried.append(job_id)
        return report

    async def purge(self, older_than: timedelta) -> int:
        """Delete done jobs last updated before ``now - older_than``; never a queued,
        running or dead one.  Returns how many were deleted."""
        if older_than < timedelta(0):
            raise InvalidInputError("older_than must not be negative")
        cutoff = self.clock.now() - older_than
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(Job)
                .where(Job.status == DONE, Job.updated_at < cutoff)
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0) or 0)
