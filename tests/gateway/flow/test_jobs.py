"""Durable jobs: retries with backoff, dead letters, leases taken over after a crash."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from gateway.clock import FakeClock
from gateway.config import JobSettings, Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.tables import Job
from gateway.flow.bus import InProcessEventBus
from gateway.flow.jobs import DeferJob, JobRunner, PermanentJobError, backoff_delay
from gateway.flow.store import JobView, SqlStore
from tests.gateway.conftest import Core


async def jobs(core: Core) -> list[Job]:
    async with core.store.sessions() as s:
        return list((await s.execute(select(Job).order_by(Job.id))).scalars())


def test_backoff_grows_and_is_capped() -> None:
    cfg = JobSettings(backoff_base=1.0, backoff_max=60.0)
    assert backoff_delay(1, cfg, lambda: 0.0) == 0.5
    assert backoff_delay(1, cfg, lambda: 1.0) == 1.0
    assert backoff_delay(4, cfg, lambda: 1.0) == 8.0
    assert backoff_delay(30, cfg, lambda: 1.0) == 60.0


async def test_transient_send_failures_are_retried_until_delivered(core: Core) -> None:
    core.channel.fail_next = 2
    await core.channel.receive("reset password", message_id="m1")
    for _ in range(50):
        await core.drain()
        if core.channel.sent:
            break
        await asyncio.sleep(0.02)
    assert len(core.channel.sent) == 1
    send = next(j for j in await jobs(core) if j.kind == "send")
    assert send.status == "done" and send.attempts == 3


async def test_a_job_that_keeps_failing_is_dead_lettered_with_its_reason(core: Core) -> None:
    core.settings.jobs.max_attempts = 2
    core.channel.fail_next = 100
    await core.channel.receive("reset password", message_id="m1")
    for _ in range(50):
        await core.drain()
        send = [j for j in await jobs(core) if j.kind == "send"]
        if send and send[0].status == "dead":
            break
        await asyncio.sleep(0.02)
    assert send[0].status == "dead" and "fake transient failure" in (send[0].last_error or "")


async def test_unknown_job_kind_is_dead_at_once(core: Core) -> None:
    async with core.store.tx() as tx:
        tx.enqueue("no-such-kind", {})
    await core.drain()
    [job] = await jobs(core)
    assert job.status == "dead" and job.attempts == 1 and "no handler" in (job.last_error or "")


async def test_a_crashed_workers_job_is_taken_again_after_its_lease(
    settings: Settings, migrated: Settings
) -> None:
    clock = FakeClock()
    engine = make_engine(settings.database_url)
    store = SqlStore(make_session_factory(engine), clock, settings, InProcessEventBus())
    async with store.tx() as tx:
        tx.enqueue("work", {"n": 1})
    [claimed] = await store.claim_jobs("worker-that-dies", 5)
    assert await store.claim_jobs("other", 5) == []  # leased
    clock.advance(seconds=settings.jobs.lease_seconds + 1)
    [again] = await store.claim_jobs("other", 5)
    assert again.id == claimed.id and again.attempts == 2
    await store.finish_job(again)
    await store.finish_job(claimed)  # the dead worker's late finish changes nothing
    assert await store.claim_jobs("other", 5) == []
    await engine.dispose()


async def test_backoff_delays_the_next_attempt(settings: Settings, migrated: Settings) -> None:
    clock = FakeClock()
    engine = make_engine(settings.database_url)
    store = SqlStore(make_session_factory(engine), clock, settings, InProcessEventBus())
    async with store.tx() as tx:
        tx.enqueue("work", {})
    [job] = await store.claim_jobs("w", 1)
    assert await store.retry_job(job, "boom", delay=30)
    assert await store.claim_jobs("w", 1) == []
    clock.advance(seconds=31)
    assert len(await store.claim_jobs("w", 1)) == 1
    await engine.dispose()


async def test_workers_in_the_background_pick_up_jobs_as_they_are_committed(core: Core) -> None:
    seen: list[int] = []

    async def handler(job: JobView) -> None:
        if job.payload["n"] == 3:
            raise PermanentJobError("bad payload")
        seen.append(job.payload["n"])

    runner = JobRunner(core.store, {"work": handler}, core.settings.jobs)
    core.store._on_jobs = runner.wake
    await runner.start()
    for n in range(5):
        async with core.store.tx() as tx:
            tx.enqueue("work", {"n": n})
    for _ in range(100):
        if len(seen) == 4:
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    assert sorted(seen) == [0, 1, 2, 4]
    assert runner.failed == 1


async def test_a_job_put_back_for_a_moment_runs_again_then_not_at_the_next_poll(core: Core) -> None:
    """A short deferral (a reply waiting for its mail to be filed, a message waiting for
    an earlier one) is picked up when due, even with a long poll interval."""
    runs: list[int] = []

    async def handler(job: JobView) -> None:
        runs.append(job.id)
        if len(runs) == 1:
            raise DeferJob(0.05, "not yet")

    cfg = JobSettings(workers=1, poll_interval=60.0)
    runner = JobRunner(core.store, {"work": handler}, cfg)
    core.store._on_jobs = runner.wake
    await runner.start()
    async with core.store.tx() as tx:
        tx.enqueue("work", {})
    for _ in range(250):  # bounded: 5 s, far below the 60 s poll
        if len(runs) == 2:
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    assert len(runs) == 2 and runs[0] == runs[1]
    assert runner.failed == 0


async def test_a_paced_kind_waits_at_its_gate_and_runs_at_most_its_limit_at_once(core: Core) -> None:
    """``pace_fast``: fast-path jobs of one kind wait in memory at the kind's gate (mail
    waiting for a pause in the SMTP sessions), then run at most N at a time."""
    gate_open = asyncio.Event()
    running, peak, done = 0, 0, []

    async def gate(_job: JobView, _since: float) -> None:
        await gate_open.wait()

    async def handler(job: JobView) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done.append(job.payload["n"])

    runner = JobRunner(core.store, {"mail": handler}, JobSettings(workers=1, poll_interval=60.0))
    runner.pace_fast("mail", concurrency=2, gate=gate)
    await runner.start()
    for n in range(5):
        async with core.store.tx(fast=True) as tx:
            tx.enqueue("mail", {"n": n})
    for _ in range(10):  # several loop turns: nothing passes a closed gate
        await asyncio.sleep(0.01)
    assert done == []
    gate_open.set()
    for _ in range(250):
        if len(done) == 5:
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    assert sorted(done) == [0, 1, 2, 3, 4]
    assert peak == 2
