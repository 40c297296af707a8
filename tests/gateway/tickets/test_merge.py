"""Merging ticket B into ticket A (and accepting email's suggested merges), on SQLite
and PostgreSQL: B's history moves into A's conversation, B is closed and points to
A, both tickets record the merge, two customers' tickets need a supervisor's explicit
force (not the operator's acceptance of an email suggestion about that very mail),
and two opposite merges at once neither deadlock nor both succeed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from gateway.auth import create_user
from gateway.db.tables import Message
from gateway.db.tables_mail import MailParticipant, MailSuggestion
from gateway.db.tables_merge import TicketMerge
from gateway.db.tables_tickets import TicketEvent
from gateway.errors import ConflictError, ForbiddenError, InvalidInputError
from gateway.models import ConversationState, Identity, Inbound, TicketStatus
from gateway.tickets.history import TicketChange, add_change_listener, remove_change_listener
from gateway.tickets.merge import TicketMerger
from gateway.views import TicketView, UserView
from tests.gateway.tickets.fixtures import Desk

HANDOFF = "I want to talk to a person"


async def ticket_on(desk: Desk, user: str, thread: str, text: str) -> TicketView:
    """``user`` writes ``text`` on a thread of their own, then asks for a person."""
    for body in (text, HANDOFF):
        await desk.store.accept_inbound(Inbound(
            channel="fake", external_id=f"{thread}-{body[:12]}", thread_key=thread,
            sender=Identity("fake", user, user.title()), text=body, received_at=desk.clock.now(),
        ))
        await desk.runner.run_once()
    conv_id = await conv_of(desk, thread)
    [ticket] = [t for t in await desk.operators.list_tickets() if t.conversation_id == conv_id]
    return ticket


async def conv_of(desk: Desk, thread: str) -> int:
    async with desk.store.read() as tx:
        conv = await tx.latest_conversation("fake", thread)
        assert conv is not None
        return conv.id


async def texts(desk: Desk, conversation_id: int) -> list[str]:
    async with desk.store.read() as tx:
        return [m.text for m in await tx.messages(conversation_id, include_internal=True)]


async def status(desk: Desk, ticket_id: int) -> TicketStatus:
    return (await desk.operators.get_ticket(ticket_id)).status


async def supervisor(desk: Desk) -> UserView:
    return await create_user(desk.store.sessions, "sam", "correct horse battery", "supervisor", "Sam")


async def test_merge_moves_b_into_a_closes_b_with_a_pointer_and_records_both(
    desk: Desk, olga: UserView
) -> None:
    a = await ticket_on(desk, "alice", "alice-1", "My invoice for March is wrong")
    b = await ticket_on(desk, "alice", "alice-2", "Also, the April invoice is wrong")
    seen: list[TicketChange] = []

    async def listener(tx: object, change: TicketChange) -> None:
        seen.append(change)

    add_change_listener(listener)
    try:
        result = await TicketMerger(desk.store).merge(b.id, a.id, olga, reason="same billing problem")
    finally:
        remove_change_listener(listener)

    assert (result.source_number, result.target_number, result.forced) == (b.number, a.number, False)
    in_a = await texts(desk, a.conversation_id)
    assert "Also, the April invoice is wrong" in in_a and "My invoice for March is wrong" in in_a
    assert in_a.index("My invoice for March is wrong") < in_a.index("Also, the April invoice is wrong")
    assert any(f"ticket {b.number} merged into this one" in t for t in in_a)
    assert result.moved_messages >= 2
    left = await texts(desk, b.conversation_id)
    assert left == [f"Olga: merged into {a.number} (same billing problem)."]  # only the pointer line

    assert await status(desk, b.id) is TicketStatus.CLOSED
    assert await status(desk, a.id) is not TicketStatus.CLOSED
    async with desk.store.read() as tx:
        assert (await tx.conversation(b.conversation_id)).state == ConversationState.RESOLVED.value
        kinds = {
            (e.ticket_id, e.kind)
            for e in (await tx.session.execute(select(TicketEvent))).scalars()
            if e.kind in ("merge", "merged_in")
        }
    assert kinds == {(b.id, "merge"), (a.id, "merged_in")}
    assert {(c.ticket_id, c.kind) for c in seen} >= {(b.id, "status"), (b.id, "merge"), (a.id, "merged_in")}
    assert "conversation.merged" in desk.topics()

    merger = TicketMerger(desk.store)
    pointer = await merger.merges_of(b.id)
    assert pointer["merged_into"]["target_ticket_id"] == a.id and pointer["merged_from"] == []
    assert [m["source_ticket_id"] for m in (await merger.merges_of(a.id))["merged_from"]] == [b.id]
    with pytest.raises(ConflictError, match="already merged"):
        await merger.merge(b.id, a.id, olga)
    c = await ticket_on(desk, "alice", "alice-3", "And May's")
    with pytest.raises(ConflictError, match=f"merged into {a.number}"):
        await merger.merge(c.id, b.id, olga)  # B is closed: it says where it went
    with pytest.raises(InvalidInputError):
        await merger.merge(c.id, c.id, olga)


async def test_two_customers_need_a_supervisors_explicit_force_and_a_reason(
    desk: Desk, olga: UserView
) -> None:
    a = await ticket_on(desk, "alice", "alice-1", "My parcel never came")
    b = await ticket_on(desk, "bob", "bob-1", "My parcel never came either")
    merger, sam = TicketMerger(desk.store), await supervisor(desk)
    with pytest.raises(ConflictError, match="two different customers"):
        await merger.merge(b.id, a.id, olga)
    with pytest.raises(ConflictError, match="two different customers"):
        await merger.merge(b.id, a.id, sam)  # a supervisor too: only with the explicit flag
    with pytest.raises(ForbiddenError):
        await merger.merge(b.id, a.id, olga, force=True, reason="same household")
    with pytest.raises(InvalidInputError, match="reason"):
        await merger.merge(b.id, a.id, sam, force=True)
    assert "My parcel never came either" not in await texts(desk, a.conversation_id)  # nothing moved

    result = await merger.merge(b.id, a.id, sam, force=True, reason="same household, one account")
    assert result.forced
    assert "My parcel never came either" in await texts(desk, a.conversation_id)
    assert (await merger.merges_of(a.id))["merged_from"][0]["reason"] == "same household, one account"


async def test_opposite_merges_at_once_neither_deadlock_nor_both_succeed(desk: Desk, olga: UserView) -> None:
    a = await ticket_on(desk, "alice", "alice-1", "First")
    b = await ticket_on(desk, "alice", "alice-2", "Second")
    merger = TicketMerger(desk.store)
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            merger.merge(a.id, b.id, olga), merger.merge(b.id, a.id, olga), return_exceptions=True
        ),
        timeout=60,
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], ConflictError), outcomes
    survivor = won[0].target_ticket_id
    assert [await status(desk, t) is TicketStatus.CLOSED for t in (a.id, b.id)].count(True) == 1
    assert survivor is not None and await status(desk, survivor) is not TicketStatus.CLOSED
    texts_kept = await texts(desk, (await desk.operators.get_ticket(survivor)).conversation_id)
    assert "First" in texts_kept and "Second" in texts_kept  # every message once, in the survivor
    async with desk.store.read() as tx:
        every = [m.text for m in (await tx.session.execute(select(Message))).scalars()]
    assert every.count("First") == 1 and every.count("Second") == 1


async def suggestion(desk: Desk, new_conv: int, candidate: int) -> int:
    async with desk.store.tx() as tx:
        row = MailSuggestion(conversation_id=new_conv, candidate_id=candidate, reason="subject token",
                             status="open", created_at=tx.now())
        tx.session.add(row)
        tx.session.add(MailParticipant(
            conversation_id=new_conv, address="alice@home.example", role="customer", created_at=tx.now()
        ))
        await tx.session.flush()
        return row.id


async def test_accepting_an_email_suggestion_performs_the_merge(desk: Desk, olga: UserView) -> None:
    a = await ticket_on(desk, "alice", "alice-1", "The router blinks red")
    b = await ticket_on(desk, "alice", "alice-2", "Re: the router blinks red")
    sid = await suggestion(desk, b.conversation_id, a.conversation_id)
    merger = TicketMerger(desk.store)
    result = await merger.accept_suggestion(sid, olga)
    assert (result.source_ticket_id, result.target_ticket_id, result.suggestion_id) == (b.id, a.id, sid)
    assert "Re: the router blinks red" in await texts(desk, a.conversation_id)
    async with desk.store.read() as tx:
        s = await tx.session.get(MailSuggestion, sid)
        assert s is not None and (s.status, s.decided_by) == ("accepted", olga.id)
        moved = (await tx.session.execute(
            select(MailParticipant.address).where(MailParticipant.conversation_id == a.conversation_id)
        )).scalars().all()
    assert "alice@home.example" in moved  # the sender may now write to A's thread
    assert await status(desk, b.id) is TicketStatus.CLOSED
    with pytest.raises(ConflictError, match="already accepted"):
        await merger.accept_suggestion(sid, olga)


async def test_an_operator_accepts_a_suggestion_from_another_customer_record(
    desk: Desk, olga: UserView
) -> None:
    """The suggestion is about that very mail: accepting it is the operator's explicit
    decision, allowed without force although the sender is another customer record,
    and recorded with the suggestion's id; an arbitrary merge of the same two
    customers' tickets still needs a supervisor's force."""
    a = await ticket_on(desk, "alice", "alice-1", "My order 1042 is late")
    b = await ticket_on(desk, "mallory", "mallory-1", "About order 1042")
    c = await ticket_on(desk, "mallory", "mallory-2", "And order 1043")
    merger = TicketMerger(desk.store)
    with pytest.raises(ConflictError, match="two different customers"):
        await merger.merge(c.id, a.id, olga)
    sid = await suggestion(desk, b.conversation_id, a.conversation_id)
    done = await merger.accept_suggestion(sid, olga)
    assert (done.suggestion_id, done.two_customers, done.forced) == (sid, True, False)
    assert "About order 1042" in await texts(desk, a.conversation_id)
    assert await status(desk, b.id) is TicketStatus.CLOSED
    async with desk.store.read() as tx:
        record = (await tx.session.execute(
            select(TicketMerge).where(TicketMerge.suggestion_id == sid)
        )).scalar_one()
        changes = (await tx.session.execute(
            select(TicketEvent).where(TicketEvent.ticket_id == a.id, TicketEvent.kind == "merged_in")
        )).scalars().all()
    assert (record.actor_id, record.source_ticket_id, record.forced) == (olga.id, b.id, False)
    assert [h.after.get("suggestion_id") for h in changes] == [sid]
    assert [h.after.get("two_customers") for h in changes] == [True]
    with pytest.raises(ConflictError, match="two different customers"):
        await merger.merge(c.id, a.id, olga)  # the suggestion vouched for that mail only
