"""inbox.accept: one transaction, idempotent on the channel's message id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from gateway.db.tables import Conversation, Job, Message
from gateway.models import ConversationState, Identity, Inbound
from tests.gateway.conftest import Core


def inbound(text: str, ext: str, thread: str = "t1", **kw: object) -> Inbound:
    return Inbound(
        channel="fake",
        external_id=ext,
        thread_key=thread,
        sender=Identity("fake", thread, "Zoé"),
        text=text,
        received_at=datetime.now(UTC),
        **kw,  # type: ignore[arg-type]
    )


async def count(core: Core, model: type) -> int:
    async with core.store.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_accept_stores_message_conversation_and_route_job(core: Core) -> None:
    result = await core.store.accept_inbound(inbound("Bonjour", "m1"))
    assert not result.duplicate
    assert await count(core, Message) == 1
    assert await count(core, Conversation) == 1
    async with core.store.sessions() as s:
        job = (await s.execute(select(Job))).scalar_one()
    assert job.kind == "route" and job.payload["message_id"] == result.message_id


async def test_redelivery_is_deduplicated(core: Core) -> None:
    first = await core.store.accept_inbound(inbound("hello", "same-id"))
    again = await core.store.accept_inbound(inbound("hello", "same-id"))
    assert again.duplicate and again.message_id == first.message_id
    assert await count(core, Message) == 1
    assert await count(core, Job) == 1


async def test_concurrent_redeliveries_store_one_message(core: Core) -> None:
    results = await asyncio.gather(*(core.store.accept_inbound(inbound("x", "race")) for _ in range(6)))
    assert len({r.message_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert await count(core, Message) == 1


async def test_same_thread_continues_the_conversation(core: Core) -> None:
    a = await core.store.accept_inbound(inbound("one", "m1"))
    b = await core.store.accept_inbound(inbound("two", "m2"))
    c = await core.store.accept_inbound(inbound("other", "m3", thread="t2"))
    assert a.conversation_id == b.conversation_id != c.conversation_id


async def test_message_on_resolved_conversation_reopens_it_for_the_bot(core: Core) -> None:
    r = await core.store.accept_inbound(inbound("one", "m1"))
    async with core.store.tx() as tx:
        conv = await tx.conversation(r.conversation_id)
        tx.set_state(conv, ConversationState.RESOLVED)
    await core.store.accept_inbound(inbound("again", "m2"))
    async with core.store.tx() as tx:
        assert (await tx.conversation(r.conversation_id)).state == "bot"


async def test_history_shows_only_that_thread_and_no_internal_notes(core: Core, operator) -> None:  # type: ignore[no-untyped-def]
    r = await core.store.accept_inbound(inbound("my secret question", "m1", thread="alice"))
    await core.store.accept_inbound(inbound("bob's question", "m2", thread="bob"))
    await core.operators.add_note(r.conversation_id, operator, "internal: VIP customer")
    conv, msgs = await core.store.history("fake", "alice")
    assert conv is not None and conv.id == r.conversation_id
    texts = [m.text for m in msgs]
    assert texts == ["my secret question"]
    none_conv, none_msgs = await core.store.history("fake", "nobody")
    assert none_conv is None and none_msgs == []
