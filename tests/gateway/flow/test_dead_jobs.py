"""Nothing silent: a dead route job hands the conversation to an operator, a dead
send job leaves the message visibly failed (and a retry delivers it once), a job
whose worker died on every attempt is dead-lettered, and leases of long jobs are
renewed so that nobody else takes them."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from gateway.db.tables import Job, Message, Ticket
from gateway.flow.job_admin import JobAdmin
from gateway.flow.jobs import JobRunner
from gateway.flow.router import Router
from gateway.models import AuthorKind, ConversationState, DeliveryStatus
from gateway.protocols import Hit, SearchResult
from tests.gateway.conftest import Core


class BrokenRetriever:
    async def search(self, text: str, k: int = 5) -> SearchResult:
        raise RuntimeError("index file is corrupt")


async def jobs(core: Core, kind: str) -> list[Job]:
    async with core.store.sessions() as s:
        return list((await s.execute(select(Job).where(Job.kind == kind).order_by(Job.id))).scalars())


async def drain_until(core: Core, done, rounds: int = 200) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        await core.drain()
        if await done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def runner_with(core: Core, router: Router) -> JobRunner:
    outbox = core.runner.handlers["send"]
    return JobRunner(
        core.store,
        {"route": router.handle, "send": outbox},
        core.settings.jobs,
        dead_handlers={"route": router.on_dead, "send": core.runner.dead_handlers["send"]},
    )


async def test_a_dead_route_job_hands_the_customer_to_an_operator(core: Core) -> None:
    core.settings.jobs.max_attempts = 2
    router = Router(core.store, BrokenRetriever(), core.settings)
    core.runner = runner_with(core, router)
    accepted = await core.channel.receive("How do I reset my password?", message_id="m1")

    async def route_dead() -> bool:
        return [j.status for j in await jobs(core, "route")] == ["dead"]

    await drain_until(core, route_dead)
    await core.drain()  # the handoff message's send job
    [route] = await jobs(core, "route")
    assert route.attempts == 2 and "index file is corrupt" in (route.last_error or "")
    [ticket] = await core.operators.list_tickets()
    assert ticket.handoff_reason == "internal_error"
    [sent] = core.channel.sent
    assert sent.author is AuthorKind.BOT and ticket.number in sent.text
    conv = await core.operators.get_conversation(accepted.conversation_id)
    assert conv.state is ConversationState.PENDING
    notes = [m for m in await core.operators.messages(accepted.conversation_id) if m.kind.value == "note"]
    assert len(notes) == 1 and "index file is corrupt" in notes[0].text
    # the customer-visible history has no trace of the internal note
    assert all(m.kind.value == "message" for m in await core.operators.messages(
        accepted.conversation_id, include_internal=False))


async def test_a_dead_send_is_shown_failed_and_a_retry_delivers_it_once(core: Core) -> None:
    core.settings.jobs.max_attempts = 2
    core.channel.fail_next = 2  # every attempt fails
    accepted = await core.channel.receive("How do I reset my password?", message_id="m1")

    async def send_dead() -> bool:
        return [j.status for j in await jobs(core, "send")] == ["dead"]

    await drain_until(core, send_dead)
    [reply] = [m for m in await core.operators.messages(accepted.conversation_id) if m.direction == "out"]
    assert reply.delivery == DeliveryStatus.FAILED.value
    assert "fake transient failure" in str(reply.meta.get("delivery_detail"))
    assert core.channel.sent == []

    [dead] = await jobs(core, "send")
    await JobAdmin(core.store.sessions, core.store.clock).retry_job(dead.id)
    await core.drain()
    await core.drain()  # a second pass finds nothing more to send
    assert [o.message_id for o in core.channel.sent] == [reply.id]
    [reply] = [m for m in await core.operators.messages(accepted.conversation_id) if m.direction == "out"]
    assert reply.delivery == DeliveryStatus.SENT.value and "delivery_detail" not in reply.meta


async def test_a_job_whose_worker_died_on_every_attempt_is_dead_and_visible(core: Core) -> None:
    core.settings.jobs.max_attempts = 1
    await core.channel.receive("How do I reset my password?", message_id="m1")
    [held] = await core.store.claim_jobs("worker-that-dies", 1)
    async with core.store.sessions() as s, s.begin():  # its lease runs out: the worker died
        await s.execute(update(Job).values(locked_until=core.store.clock.now().replace(year=2000)))
    assert await core.store.claim_jobs("other", 1) == []  # never retried forever
    await core.drain()
    [route] = await jobs(core, "route")
    assert route.id == held.id and route.status == "dead" and "worker died" in (route.last_error or "")
    async with core.store.sessions() as s:
        [ticket] = (await s.execute(select(Ticket))).scalars()
    assert ticket.handoff_reason == "internal_error"
    assert len(core.channel.sent) == 1  # the customer is told a person will answer


async def test_a_long_job_keeps_its_lease_and_runs_once(core: Core) -> None:
    core.settings.jobs.lease_seconds = 0.3
    runs: list[int] = []
    release = asyncio.Event()

    async def slow(job):  # type: ignore[no-untyped-def]
        runs.append(job.id)
        await release.wait()

    runner = JobRunner(core.store, {"slow": slow}, core.settings.jobs)
    async with core.store.tx() as tx:
        tx.enqueue("slow", {})
    await runner.start()
    try:
        async with asyncio.timeout(5):
            while not runs:
                await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)  # more than three lease periods
        assert await core.store.claim_jobs("other", 1) == []  # still leased: renewed
        release.set()
        async with asyncio.timeout(5):
            while runner.processed < 1:
                await asyncio.sleep(0.01)
    finally:
        release.set()
        await runner.stop()
    [job] = await jobs(core, "slow")
    assert runs == [job.id] and job.status == "done" and job.attempts == 1


class FirstQuestionSlow:
    """The first question's search waits for ``gate``; later ones answer at once."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.calls: list[str] = []

    async def search(self, text: str, k: int = 5) -> SearchResult:
        self.calls.append(text)
        if len(self.calls) == 1:
            await self.gate.wait()
        article = text.split()[0]
        hit = Hit(article, f"About {article}", f"All about {article}.", 0.95)
        return SearchResult((hit,), 0.95, "v-test")


async def test_a_conversations_messages_are_answered_in_the_order_they_arrived(core: Core) -> None:
    await core.channel.receive("printer is not printing", message_id="m1")
    await core.channel.receive("scanner is not scanning", message_id="m2")
    first, second = await core.store.claim_jobs("w", 2)
    retriever = FirstQuestionSlow()
    router = Router(core.store, retriever, core.settings)
    slow = asyncio.create_task(router.handle(first))
    async with asyncio.timeout(5):
        while not retriever.calls:
            await asyncio.sleep(0.005)
    fast = asyncio.create_task(router.handle(second))  # a second worker, same conversation
    await asyncio.sleep(0.2)
    assert retriever.calls == ["printer is not printing"]  # it waits for the first
    retriever.gate.set()
    await asyncio.gather(slow, fast)
    async with core.store.sessions() as s:
        replies = list((await s.execute(
            select(Message).where(Message.author_kind == "bot").order_by(Message.id))).scalars())
    assert [m.meta.get("article_id") for m in replies] == ["printer", "scanner"]


async def test_a_retry_after_asked_by_the_channel_is_honoured(core: Core) -> None:
    from gateway.models import TransientDeliveryError

    async def busy(job):  # type: ignore[no-untyped-def]
        raise TransientDeliveryError("429 slow down", retry_after=30)

    runner = JobRunner(core.store, {"busy": busy}, core.settings.jobs)
    async with core.store.tx() as tx:
        tx.enqueue("busy", {})
    await runner.run_once()
    [job] = await jobs(core, "busy")
    assert job.status == "queued" and "429 slow down" in (job.last_error or "")
    assert (job.run_at - core.store.clock.now()).total_seconds() > 25


async def test_a_resend_after_a_failed_attempt_carries_the_same_idempotency_key(core: Core) -> None:
    core.channel.fail_next = 1
    accepted = await core.channel.receive("How do I reset my password?", message_id="m1")
    await drain_until(core, lambda: _sent(core))
    [sent] = core.channel.sent
    async with core.store.sessions() as s:
        [reply] = (await s.execute(select(Message).where(
            Message.conversation_id == accepted.conversation_id, Message.direction == "out"))).scalars()
    assert sent.idempotency_key == reply.outbound_key and len(reply.outbound_key or "") == 32
    [send] = await jobs(core, "send")
    assert send.attempts == 2 and send.status == "done"


async def _sent(core: Core) -> bool:
    return bool(core.channel.sent)
