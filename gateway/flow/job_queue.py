"""The durable job queue on the store: claim with a lease, renew, retry, dead-letter.

A job is held by one worker at a time, under a *lease token* (``jobs.locked_by``)
that is new at every claim.  Everything a worker writes about its job is fenced
by that token: once a lease expired and another worker claimed the job again,
the first worker's completion is refused (:class:`LeaseLost`) and its
transaction rolls back with it.  A job is completed in the same transaction as
its effects (:meth:`gateway.flow.tx.Tx.complete_job`).
"""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables import Job

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"


class LeaseLost(Exception):
    """The worker's lease on the job ended and another worker holds it now: the
    work of this attempt is refused (its transaction rolls back)."""


@dataclass(slots=True)
class JobView:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lock: str  # the lease token of this claim
    completed: bool = field(default=False, compare=False)  # set by Tx.complete_job
    # Fast path only: what the transaction that created the job already knew (the
    # message it is about, the Outbound to send), so the handler need not read it
    # again.  Never persisted: a retry or a reclaim reads everything afresh.
    prepared: Any = field(default=None, compare=False)


_instance = f"{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
_claims = itertools.count(1)


def new_token(worker: str = "") -> str:
    """A lease token unique to one claim: process instance, worker, counter."""
    return f"{_instance}:{worker[:16]}:{next(_claims)}"[:64]


def view(job: Job) -> JobView:
    payload = dict(job.payload or {})
    return JobView(job.id, job.kind, payload, job.attempts, job.max_attempts, job.locked_by or "")


async def claim(
    session: AsyncSession, worker: str, limit: int, now: datetime, lease: timedelta
) -> list[JobView]:
    """Take up to ``limit`` due jobs (queued and due, or running with an expired
    lease whose attempts are not used up), each under a fresh lease token.  On
    PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``."""
    due = (
        select(Job.id)
        .where(
            or_(
                and_(Job.status == QUEUED, Job.run_at <= now),
                and_(Job.status == RUNNING, Job.locked_until < now, Job.attempts < Job.max_attempts),
            )
        )
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    claimed: list[JobView] = []
    for job_id in ids:  # one token per job: a fence per claim
        token = new_token(worker)
        row = (
            await session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=RUNNING,
                    locked_by=token,
                    locked_until=now + lease,
                    attempts=Job.attempts + 1,
                    updated_at=now,
                )
                .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
                .execution_options(synchronize_session=False)
            )
        ).one()
        claimed.append(JobView(row[0], row[1], dict(row[2] or {}), row[3], row[4], token))
    return claimed


async def expired_past_attempts(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int = 20,
) -> list[JobView]:
    """Running jobs whose lease expired with no attempt left (their worker died
    each time): they are to be dead-lettered, each under a fresh token held for
    one ``lease`` (the configured ``jobs.lease_seconds``)."""
    stmt = (
        select(Job)
        .where(Job.status == RUNNING, Job.locked_until < now, Job.attempts >= Job.max_attempts)
        .order_by(Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    found: list[JobView] = []
    for job in (await session.execute(stmt)).scalars():
        job.locked_by = new_token("reaper")
        job.locked_until = now + lease
        job.updated_at = now
        found.append(view(job))
    return found


async def _fenced(session: AsyncSession, job: JobView, **values: Any) -> None:
    """Update the job only while ``job.lock`` still holds it; else :class:`LeaseLost`."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.locked_by == job.lock, Job.status == RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job.id} ({job.kind}): lease {job.lock} no longer held")


async def complete(session: AsyncSession, job: JobView, now: datetime) -> None:
    """Mark done, fenced by the lease token."""
    await _fenced(session, job, status=DONE, locked_until=None, updated_at=now)
    job.completed = True


async def reschedule(
    session: AsyncSession, job: JobView, error: str, run_at: datetime, now: datetime
) -> None:
    """Queue another attempt at ``run_at``, fenced."""
    await _fenced(session, job, status=QUEUED, locked_by=None, locked_until=None, run_at=run_at,
                  last_error=error[:2000], updated_at=now)


async def defer(session: AsyncSession, job: JobView, seconds: float, now: datetime) -> None:
    """Put the job back without using an attempt (it waits for another job), fenced."""
    await _fenced(session, job, status=QUEUED, locked_by=None, locked_until=None,
                  attempts=Job.attempts - 1, run_at=now + timedelta(seconds=seconds), updated_at=now)


async def bury(session: AsyncSession, job: JobView, error: str, now: datetime) -> None:
    """Dead-letter, fenced."""
    await _fenced(session, job, status=DEAD, locked_until=None, last_error=error[:2000], updated_at=now)


async def renew(session: AsyncSession, tokens: list[str], until: datetime) -> int:
    """Extend the leases still held under ``tokens``; returns how many were."""
    if not tokens:
        return 0
    result = await session.execute(
        update(Job)
        .where(Job.locked_by.in_(tokens), Job.status == RUNNING)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
