"""Housekeeping: delete what nobody needs any more, every ``jobs.housekeeping_interval``
seconds: done jobs older than ``jobs.keep_done_hours`` and expired console sessions.

Never a queued, running or dead job: dead ones wait for an admin's retry
(``guichet jobs retry``, ``/admin/jobs``).  A failed run is logged and tried again
at the next interval; it never stops the process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.config import Settings
from gateway.db.tables import SessionRow
from gateway.flow.job_admin import JobAdmin
from gateway.periodic import periodic

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    jobs: int
    sessions: int


async def purge_once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> PurgeCounts:
    """One housekeeping pass; returns how many rows of each kind were deleted."""
    jobs = await JobAdmin(sessions, clock).purge(timedelta(hours=settings.jobs.keep_done_hours))
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(SessionRow)
            .where(SessionRow.expires_at < clock.now())
            .execution_options(synchronize_session=False)
        )
    return PurgeCounts(jobs, int(getattr(result, "rowcount", 0) or 0))


def housekeeping(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> Callable[[Any], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry running :func:`purge_once` at start and then every
    ``jobs.housekeeping_interval`` seconds (0: never), cancelled on shutdown."""

    async def step() -> None:
        counts = await purge_once(sessions, clock, settings)
        if counts.jobs or counts.sessions:
            log.info("housekeeping: deleted %d done jobs and %d expired sessions",
                     counts.jobs, counts.sessions)

    return periodic(
        "housekeeping", lambda: settings.jobs.housekeeping_interval, step, task_name="housekeeping"
    )
