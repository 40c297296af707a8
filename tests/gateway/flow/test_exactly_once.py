"""What a customer sees happens once, under concurrency: one bot reply per message,
one ticket per handoff, one owner per conversation.  Each race is reproduced
deterministically (a retriever that waits on an event holds one side mid-flight),
on SQLite and on PostgreSQL (the ``core`` fixture runs on both)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select, update

from gateway.auth import create_user
from gateway.db.tables import Job, Message, Ticket
from gateway.errors import ConflictError
from gateway.flow.job_queue import JobView, LeaseLost
from gateway.flow.router import Router
from gateway.models import AuthorKind, ConversationState
from gateway.protocols import Hit, SearchResult
from gateway.views import UserView
from tests.gateway.conftest import Core


@dataclass
class GatedRetriever:
    """Answers every question confidently, but only once ``gate`` is opened;
    ``entered`` counts the searches that started."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: list[str] = field(default_factory=list)

    async def search(self, text: str, k: int = 5) -> SearchResult:
        self.entered.append(text)
        await self.gate.wait()
        hit = Hit("reset-password", "Reset your password", "Use the link on the login page.", 0.95)
        return SearchResult((hit,), 0.95, "v-test")


async def rows(core: Core, table: type, *where: object) -> list:
    async with core.store.sessions() as s:
        return list((await s.execute(select(table).where(*where).order_by(table.id))).scalars())  # type: ignore[attr-defined]


async def bot_replies(core: Core) -> list[Message]:
    return await rows(core, Message, Message.author_kind == AuthorKind.BOT.value, Message.kind == "message")


async def wait_until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def claim_route(core: Core, worker: str) -> JobView:
    [job] = await core.store.claim_jobs(worker, 1)
    assert job.kind == "route"
    return job


async def test_the_same_route_job_run_twice_at_once_replies_once(core: Core) -> None:
    retriever = GatedRetriever()
    router = Router(core.store, retriever, core.settings)
    await core.channel.receive("How do I reset my password?", message_id="m1")
    job = await claim_route(core, "w1")
    first = asyncio.create_task(router.handle(job))
    second = asyncio.create_task(router.handle(job))
    await wait_until(lambda: len(retriever.entered) == 2)  # both decided to answer
    retriever.gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert [r for r in results if r is not None and not isinstance(r, LeaseLost)] == []
    assert len(await bot_replies(core)) == 1
    [route] = await rows(core, Job, Job.kind == "route")
    assert route.status == "done"


async def test_a_reclaimed_job_and_its_late_first_worker_reply_once(core: Core) -> None:
    """The lease of worker 1 expires during a slow search; worker 2 takes the job
    again; both finish: only one reply, and worker 1's commit is refused."""
    retriever = GatedRetriever()
    router = Router(core.store, retriever, core.settings)
    await core.channel.receive("How do I reset my password?", message_id="m1")
    stale = await claim_route(core, "w1")
    async with core.store.sessions() as s, s.begin():
        await s.execute(update(Job).values(locked_until=core.store.clock.now().replace(year=2000)))
    fresh = await claim_route(core, "w2")
    assert fresh.id == stale.id and fresh.lock != stale.lock and fresh.attempts == 2
    slow = asyncio.create_task(router.handle(stale))
    await wait_until(lambda: len(retriever.entered) == 1)
    retriever.gate.set()
    await router.handle(fresh)
    with pytest.raises(LeaseLost):
        await slow
    assert len(await bot_replies(core)) == 1
    assert not await core.store.finish_job(stale)  # a late finish changes nothing


async def test_two_handoff_requests_routed_by_two_workers_open_one_ticket(core: Core) -> None:
    router = Router(core.store, GatedRetriever(), core.settings)
    await core.channel.receive("I want to talk to a person", message_id="m1")
    await core.channel.receive("a human please, now", message_id="m2")
    jobs = await core.store.claim_jobs("w1", 2)
    assert [j.kind for j in jobs] == ["route", "route"]
    await asyncio.gather(*(router.handle(j) for j in reversed(jobs)))
    assert len(await rows(core, Ticket)) == 1
    msgs = await rows(core, Message, Message.direction == "in")
    assert [m.meta.get("action") for m in msgs] == ["handoff", "none"]  # in arrival order
    assert msgs[1].meta["reason"] == "with_operator"


async def test_two_operators_taking_over_at_once_one_owns_the_other_gets_a_conflict(
    core: Core, operator: UserView
) -> None:
    bob = await create_user(core.store.sessions, "bob", "correct horse battery", "operator", "Bob")
    await core.channel.receive("I want to talk to a person", message_id="m1")
    await core.drain()
    [ticket] = await core.operators.list_tickets()
    results = await asyncio.gather(
        core.operators.take_over(ticket.id, operator),
        core.operators.take_over(ticket.id, bob),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], ConflictError)
    owner = won[0].assignee_id
    assert owner in (operator.id, bob.id)
    assert (await core.operators.get_ticket(ticket.id)).assignee_id == owner
    events = await rows(core, Message, Message.kind == "event", Message.text.like("%took over%"))
    assert len(events) == 1


async def test_an_operator_reply_during_the_bots_search_keeps_the_bot_silent(
    core: Core, operator: UserView
) -> None:
    retriever = GatedRetriever()
    router = Router(core.store, retriever, core.settings)
    accepted = await core.channel.receive("How do I reset my password?", message_id="m1")
    job = await claim_route(core, "w1")
    routing = asyncio.create_task(router.handle(job))
    await wait_until(lambda: len(retriever.entered) == 1)  # the bot is searching
    await core.operators.reply(accepted.conversation_id, operator, "Hello, I am looking at it.")
    retriever.gate.set()
    await routing
    assert await bot_replies(core) == []
    [incoming] = await rows(core, Message, Message.direction == "in")
    assert incoming.meta["reason"] == "operator_took_over"
    conv = await core.operators.get_conversation(accepted.conversation_id)
    assert conv.state is ConversationState.OPERATOR and conv.assignee_id == operator.id
