"""Job workers: take durable jobs from the store, run them, retry with
exponential backoff and jitter, and dead-letter what keeps failing — visibly.

Two ways in: the fast path (a transaction that enqueued work for this process
hands its claimed jobs over right after the commit, :meth:`JobRunner.run_claimed`)
and the workers' loop (due jobs, retries, and jobs whose worker died).  Leases of
the jobs in hand are renewed while they run; a job whose lease was lost is left
to the worker that holds it now.  A job that dies is made visible by its kind's
dead handler in the transaction that buries it (a dead route hands the
conversation to an operator, a dead send marks the message failed).

A kind may set fast-path rules (:meth:`JobRunner.pace_fast`): at most N of its
jobs at a time, and a *gate* each job waits on, in memory, before it runs — for
example mail processing waiting for a pause in the SMTP sessions, so the peers
waiting for their 250 go first.  A waiting job keeps its lease (renewed like any
job in hand); a crash leaves its row to be reclaimed, and a stop puts it back
queued without counting an attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping

from gateway import metrics
from gateway.config import JobSettings
from gateway.flow.job_queue import JobView, LeaseLost
from gateway.flow.store import DeadHandler, SqlStore
from gateway.models import TransientDeliveryError

log = logging.getLogger(__name__)

Handler = Callable[[JobView], Awaitable[None]]
Gate = Callable[[JobView, float], Awaitable[None]]
"""Awaited before a fast-path job runs: ``gate(job, since)`` returns when the job
may run; ``since`` is the ``time.monotonic()`` at which the job was handed over.  It must
return by itself within a bounded time (the gate owns that bound)."""

FAST_PATH_CONCURRENCY = 64


class PermanentJobError(Exception):
    """The job can never succeed (bad payload, deleted target): do not retry."""


class DeferJob(Exception):
    """The job must wait (for example for an earlier message of its conversation):
    put it back for ``seconds`` without counting an attempt."""

    def __init__(self, seconds: float, why: str = "") -> None:
        super().__init__(why)
        self.seconds = seconds


def backoff_delay(attempt: int, cfg: JobSettings, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter in [base/2, cap]."""
    cap = min(cfg.backoff_max, cfg.backoff_base * 2 ** max(attempt - 1, 0))
    return cap / 2 + rand() * cap / 2


class JobRunner:
    def __init__(
        self,
        store: SqlStore,
        handlers: Mapping[str, Handler],
        cfg: JobSettings,
        dead_handlers: Mapping[str, DeadHandler] | None = None,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.dead_handlers = dict(dead_handlers or {})
        self.cfg = cfg
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._held: set[str] = set()  # lease tokens of the jobs in hand
        self._fast = asyncio.Semaphore(FAST_PATH_CONCURRENCY)
        self._kind_limits: dict[str, asyncio.Semaphore] = {}
        self._gates: dict[str, Gate] = {}
        self._stopped = asyncio.Event()  # set by stop(): gates stop waiting
        self._stopping = False
        self._next_reap = 0.0
        self.processed = 0
        self.failed = 0

    def wake(self) -> None:
        """Called after a commit that added jobs: workers look at once."""
        self._wake.set()

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start ``cfg.workers`` workers and take fast-path work (0: this process
        runs no jobs; they wait, durable, for a process that does)."""
        self._stopping = False
        self._stopped.clear()
        if self.cfg.workers <= 0:
            return
        base = f"{os.getpid()}"
        self._tasks = [
            asyncio.create_task(self._work(f"{base}-w{i}"), name=f"job-worker-{i}")
            for i in range(self.cfg.workers)
        ]
        self._tasks.append(asyncio.create_task(self._renew_leases(), name="job-leases"))
        self.store.on_claimed = self.run_claimed

    async def stop(self) -> None:
        """Graceful: no new work; the jobs in hand finish (up to 10 s), then exit."""
        self._stopping = True
        self._stopped.set()
        self.store.on_claimed = None
        self._wake.set()
        pending = [t for t in (*self._tasks, *self._inflight) if not t.done()]
        if pending:
            _done, late = await asyncio.wait(pending, timeout=10)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._tasks = []

    # ----------------------------------------------------------------- fast path
    def pace_fast(self, kind: str, *, concurrency: int, gate: Gate | None = None) -> None:
        """Fast-path rules for one job kind: at most ``concurrency`` of its jobs run
        at a time, each after ``gate`` let it through (awaited while holding one of
        those places, so at most ``concurrency`` jobs of the kind are past the gate
        when it closes again).  Jobs waiting here do not take fast-path places of
        other kinds."""
        if concurrency < 1:
            raise ValueError(f"fast-path concurrency of {kind!r} must be at least 1")
        self._kind_limits[kind] = asyncio.Semaphore(concurrency)
        if gate is not None:
            self._gates[kind] = gate
        else:
            self._gates.pop(kind, None)

    def run_claimed(self, jobs: list[JobView]) -> None:
        """Run jobs a transaction of this process claimed, now (no poll wait)."""
        since = time.monotonic()
        for job in jobs:
            self._held.add(job.lock)
            task = asyncio.create_task(self._run_fast(job, since), name=f"job-{job.kind}-{job.id}")
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _pass(self, gate: Gate, job: JobView, since: float) -> None:
        """Wait on ``gate``, or until the runner stops."""
        passing = asyncio.ensure_future(gate(job, since))
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait((passing, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (passing, stopped):
                waiter.cancel()
            await asyncio.gather(passing, stopped, return_exceptions=True)

    async def _run_fast(self, job: JobView, since: float) -> None:
        limit = self._kind_limits.get(job.kind)
        if limit is None:
            async with self._fast:
                await self._run(job)
            return
        try:
            async with limit:
                gate = self._gates.get(job.kind)
                if gate is not None and not self._stopping:
                    await self._pass(gate, job, since)
                if self._stopping:  # not started: back to the queue, no attempt counted
                    try:
                        await self.store.defer_job(job, 0)
                    except Exception:  # its lease expires instead: reclaimed, one attempt counted
                        log.exception("job %s (%s) could not be put back at stop", job.id, job.kind)
                    return
                async with self._fast:
                    await self._run(job)
        finally:
            self._held.discard(job.lock)

    # ------------------------------------------------------------------ workers
    async def run_once(self, worker: str = "once") -> int:
        """Process every job due now (tests and one-shot CLI use)."""
        count = await self._reap()
        while jobs := await self.store.claim_jobs(worker, 1):
            for job in jobs:
                await self._run(job)
                count += 1
        return count

    async def _work(self, worker: str) -> None:
        while not self._stopping:
            try:
                if time.monotonic() >= self._next_reap:
                    self._next_reap = time.monotonic() + max(self.cfg.lease_seconds / 2, 0.05)
                    await self._reap()
                jobs = await self.store.claim_jobs(worker, 4)
            except Exception:
                log.exception("claiming jobs failed; retrying")
                jobs = []
            if not jobs:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.cfg.poll_interval)
                continue
            for job in jobs:
                self._held.add(job.lock)
            for job in jobs:
                await self._run(job)

    async def _reap(self) -> int:
        """Dead-letter jobs whose worker died on their last attempt."""
        expired = await self.store.expired_jobs()
        for job in expired:
            error = f"lease expired {job.attempts} time(s): the worker died each time"
            await self._kill(job, error)
        return len(expired)

    async def _renew_leases(self) -> None:
        every = max(self.cfg.lease_seconds / 3, 0.05)
        while not self._stopping:
            await asyncio.sleep(every)
            try:
                await self.store.renew_leases(sorted(self._held))
            except Exception:
                log.exception("renewing job leases failed")

    # ------------------------------------------------------------------ one job
    async def _run(self, job: JobView) -> None:
        self._held.add(job.lock)
        try:
            await self._attempt(job)
        finally:
            self._held.discard(job.lock)

    async def _attempt(self, job: JobView) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentJobError(f"no handler for job kind {job.kind!r}")
            with metrics.JOB_SECONDS.labels(job.kind).time():
                await handler(job)
        except asyncio.CancelledError:
            raise
        except LeaseLost as exc:
            log.info("%s; left to the worker that holds it", exc)
        except DeferJob as exc:
            if await self.store.defer_job(job, exc.seconds) and exc.seconds < self.cfg.poll_interval:
                # due before the next poll: a worker looks again when it is due
                asyncio.get_running_loop().call_later(exc.seconds, self.wake)
        except PermanentJobError as exc:
            self.failed += 1
            log.error("job %s (%s) failed permanently: %s", job.id, job.kind, exc)
            await self._kill(job, f"permanent: {exc}")
        except Exception as exc:
            self.failed += 1
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts >= job.max_attempts:
                log.warning("job %s (%s) attempt %d failed: %s; dead", job.id, job.kind, job.attempts, exc)
                await self._kill(job, error)
                return
            delay = backoff_delay(job.attempts, self.cfg)
            if isinstance(exc, TransientDeliveryError) and exc.retry_after:
                delay = max(delay, exc.retry_after)
            if await self.store.retry_job(job, error, delay):
                metrics.JOBS_RETRIED.labels(job.kind).inc()
            log.warning("job %s (%s) attempt %d failed: %s; retry in %.1fs",
                        job.id, job.kind, job.attempts, exc, delay)
        else:
            if not job.completed and not await self.store.finish_job(job):
                log.info("job %s (%s): lease lost before it was marked done", job.id, job.kind)
                return
            self.processed += 1
            metrics.JOBS_DONE.labels(job.kind).inc()

    async def _kill(self, job: JobView, error: str) -> None:
        try:
            killed = await self.store.kill_job(job, error, self.dead_handlers.get(job.kind))
        except Exception:
            log.exception("job %s (%s): its dead handler failed; buried without it", job.id, job.kind)
            killed = await self.store.kill_job(job, f"{error} (dead handler failed)", None)
        if killed:
            metrics.JOBS_DEAD.labels(job.kind).inc()
