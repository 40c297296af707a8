"""Background mail processing waits, in memory, for a pause in the SMTP sessions
(and never longer than its bound); the mail stays durable and is processed once."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from gateway.db.tables import Job
from gateway.db.tables_mail import MailInbound
from gateway.mail.ingest import INGEST_JOB
from gateway.mail.processing_sql import StoredMail
from gateway.mail.smtp_pause import SmtpPause
from tests.support.mail_core import MailCore, make_mail


class ShiftedClock:
    """``time.monotonic`` (the job runner's hand-over clock) plus a shift a test moves."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.shift

    def advance(self, seconds: float) -> None:
        self.shift += seconds


def test_the_gate_opens_after_a_pause_or_after_the_bound() -> None:
    clock = ShiftedClock()
    pause = SmtpPause(quiet=1.0, max_wait=10.0, clock=clock)
    since = clock()
    assert pause.until_open(since) == 0  # nobody sending: at once
    pause.note()
    assert 0.9 < pause.until_open(since) <= 1.0  # a client just sent MAIL: one quiet second
    for _ in range(20):  # clients keep sending: the pause never comes...
        clock.advance(0.6)
        pause.note()
    assert pause.busy()
    assert pause.until_open(since) == 0  # ...but the job waited its 10 s: it runs


def test_held_bytes_stay_within_the_budget_and_are_given_back() -> None:
    pause = SmtpPause(budget=100)
    first = pause.stored(b"x" * 60, ["support@guichet.test"], "a@example.org")
    assert isinstance(first, StoredMail) and pause.held_bytes == 60
    assert pause.stored(b"y" * 60, [], "") is None  # over budget: the job reads it back
    del first
    gc.collect()
    assert pause.held_bytes == 0
    assert pause.stored(b"y" * 60, [], "") is not None


@pytest.fixture
async def paced(mc: MailCore) -> AsyncIterator[tuple[MailCore, ShiftedClock]]:
    """The job runner as the app runs it: fast path on, mail processing gated on a
    pause that only the test's clock can bring (one hour of quiet)."""
    clock = ShiftedClock()
    mc.mail.smtp = SmtpPause(quiet=3600.0, max_wait=7200.0, clock=clock)
    mc.runner.pace_fast(INGEST_JOB, concurrency=2, gate=mc.mail.smtp.gate)
    await mc.runner.start()
    try:
        yield mc, clock
    finally:
        await mc.runner.stop()


async def _until(check: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def _status(mc: MailCore, inbound_id: int) -> str:
    async with mc.store.read() as tx:
        row = await tx.session.get(MailInbound, inbound_id)
        assert row is not None
        return row.status


async def _jobs(mc: MailCore) -> list[tuple[str, int]]:
    async with mc.store.read() as tx:
        rows = (await tx.session.execute(select(Job).where(Job.kind == INGEST_JOB))).scalars().all()
        return [(j.status, j.attempts) for j in rows]


async def test_a_mail_accepted_while_clients_send_waits_for_the_pause_and_is_processed_once(
    paced: tuple[MailCore, ShiftedClock],
) -> None:
    mc, clock = paced
    mc.mail.note_smtp()  # another client's MAIL, just now
    done = await mc.receive(make_mail(message_id="busy@example.org"), drain=False)
    await asyncio.sleep(0.2)  # the gate cannot open before the clock moves, however long this is
    assert await _status(mc, done.inbound_id) == "received"  # stored, its 250 given, waiting
    assert await _jobs(mc) == [("running", 1)]  # held by this process (lease renewed), not deferred
    assert mc.mail.smtp.held_bytes > 0  # it waits with its bytes: no read back
    clock.advance(3600)  # the clients paused

    async def replied() -> bool:  # the sink is polled: its blocking wait would stop this loop
        mc.clock.advance(seconds=1)  # the store's time passes too (a reply may wait for its mail's job)
        return await _status(mc, done.inbound_id) == "processed" and len(mc.sink.messages) >= 1

    await _until(replied)
    sent = mc.sink.wait_for(1)
    assert len(sent) == 1 and sent[0].message["In-Reply-To"] == "<busy@example.org>"
    assert await _jobs(mc) == [("done", 1)]  # one attempt, never put back


async def test_a_stop_puts_waiting_mail_back_in_the_queue_for_the_next_start(
    paced: tuple[MailCore, ShiftedClock],
) -> None:
    mc, _clock = paced
    mc.mail.note_smtp()
    done = await mc.receive(make_mail(message_id="stopping@example.org"), drain=False)
    await mc.runner.stop()  # before the pause: the job has not run
    assert await _status(mc, done.inbound_id) == "received"
    assert await _jobs(mc) == [("queued", 0)]  # back, no attempt counted: not lost, not dead
    assert await mc.drain() >= 1  # the next start (here: one pass of the workers) takes it
    assert await _status(mc, done.inbound_id) == "processed"
    assert len(mc.sink.wait_for(1)) == 1
