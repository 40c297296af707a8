"""Every state transition of a ticket, on the store: validated, recorded with
before/after, SLA pauses opened and closed, the conversation kept in step."""

from __future__ import annotations

import pytest

from gateway.errors import ConflictError, InvalidInputError
from gateway.models import ConversationState, TicketStatus
from gateway.tickets import lifecycle
from gateway.tickets.history import TicketChange, add_change_listener, remove_change_listener
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk

S = TicketStatus


def test_the_transition_table() -> None:
    assert lifecycle.TRANSITIONS[S.CLOSED] == frozenset()
    assert lifecycle.allowed(S.RESOLVED, S.OPEN) and lifecycle.allowed(S.RESOLVED, S.CLOSED)
    assert not lifecycle.allowed(S.RESOLVED, S.PENDING_CUSTOMER)
    assert all(lifecycle.allowed(a, S.RESOLVED) for a in lifecycle.ACTIVE)
    with pytest.raises(ConflictError, match="cannot go from closed to open"):
        lifecycle.check(S.CLOSED, S.OPEN)
    with pytest.raises(ConflictError, match="already"):
        lifecycle.check(S.OPEN, S.OPEN)


# Every allowed edge, reached from a fresh ticket by a path of allowed moves.
PATHS = {
    (S.NEW, S.OPEN): [],
    (S.NEW, S.PENDING_CUSTOMER): [],
    (S.NEW, S.PENDING_THIRD_PARTY): [],
    (S.NEW, S.RESOLVED): [],
    (S.NEW, S.CLOSED): [],
    (S.OPEN, S.NEW): [S.OPEN],
    (S.OPEN, S.PENDING_CUSTOMER): [S.OPEN],
    (S.OPEN, S.PENDING_THIRD_PARTY): [S.OPEN],
    (S.OPEN, S.RESOLVED): [S.OPEN],
    (S.OPEN, S.CLOSED): [S.OPEN],
    (S.PENDING_CUSTOMER, S.NEW): [S.OPEN, S.PENDING_CUSTOMER],
    (S.PENDING_CUSTOMER, S.OPEN): [S.OPEN, S.PENDING_CUSTOMER],
    (S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY): [S.OPEN, S.PENDING_CUSTOMER],
    (S.PENDING_CUSTOMER, S.RESOLVED): [S.OPEN, S.PENDING_CUSTOMER],
    (S.PENDING_CUSTOMER, S.CLOSED): [S.OPEN, S.PENDING_CUSTOMER],
    (S.PENDING_THIRD_PARTY, S.NEW): [S.OPEN, S.PENDING_THIRD_PARTY],
    (S.PENDING_THIRD_PARTY, S.OPEN): [S.OPEN, S.PENDING_THIRD_PARTY],
    (S.PENDING_THIRD_PARTY, S.PENDING_CUSTOMER): [S.OPEN, S.PENDING_THIRD_PARTY],
    (S.PENDING_THIRD_PARTY, S.RESOLVED): [S.OPEN, S.PENDING_THIRD_PARTY],
    (S.PENDING_THIRD_PARTY, S.CLOSED): [S.OPEN, S.PENDING_THIRD_PARTY],
    (S.RESOLVED, S.OPEN): [S.OPEN, S.RESOLVED],
    (S.RESOLVED, S.NEW): [S.OPEN, S.RESOLVED],
    (S.RESOLVED, S.CLOSED): [S.OPEN, S.RESOLVED],
}


def test_paths_cover_every_allowed_transition() -> None:
    edges = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}
    assert set(PATHS) == edges


CONVERSATION = {
    S.NEW: ConversationState.PENDING,
    S.OPEN: ConversationState.OPERATOR,
    S.PENDING_CUSTOMER: ConversationState.OPERATOR,
    S.PENDING_THIRD_PARTY: ConversationState.OPERATOR,
    S.RESOLVED: ConversationState.RESOLVED,
    S.CLOSED: ConversationState.RESOLVED,
}


@pytest.mark.parametrize("edge", list(PATHS), ids=[f"{a.value}->{b.value}" for a, b in PATHS])
async def test_each_transition_is_recorded_and_keeps_pauses_and_conversation(
    desk: Desk, olga: UserView, edge: tuple[TicketStatus, TicketStatus]
) -> None:
    frm, to = edge
    ticket = await desk.handoff()
    for step in PATHS[edge]:
        await desk.desk.set_status(ticket.id, step.value, olga)
        desk.clock.advance(minutes=5)
    change = await desk.desk.set_status(ticket.id, to.value, olga, reason="checked")
    assert change.kind == "status" and change.actor_id == olga.id and change.reason == "checked"
    assert change.before["status"] == frm.value and change.after["status"] == to.value
    detail = await desk.desk.detail(ticket.id)
    assert detail["ticket"]["status"] == to.value
    statuses = [e["after"]["status"] for e in detail["history"] if e["kind"] == "status"]
    assert statuses == [s.value for s in PATHS[edge]] + [to.value]
    # The clock pauses in pending, resolved and closed, and only there.
    running = [p for p in detail["pauses"] if p["ended_at"] is None]
    assert (len(running) == 1) == (to in lifecycle.PAUSING)
    if running:
        assert running[0]["reason"] == to.value
    conv = await desk.operators.get_conversation(ticket.conversation_id)
    expected = CONVERSATION[to]
    if to is S.NEW or (to in (S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY) and not PATHS[edge]):
        expected = ConversationState.PENDING  # nobody holds it
    assert conv.state is expected
    assert sorted(detail["transitions"]) == sorted(s.value for s in lifecycle.TRANSITIONS[to])


async def test_forbidden_transitions_change_nothing(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.desk.set_status(ticket.id, "closed", olga)
    for target in ("open", "new", "resolved", "pending_customer"):
        with pytest.raises(ConflictError):
            await desk.desk.set_status(ticket.id, target, olga)
    with pytest.raises(InvalidInputError, match="status must be one of"):
        await desk.desk.set_status(ticket.id, "archived", olga)
    detail = await desk.desk.detail(ticket.id)
    assert [e["after"]["status"] for e in detail["history"] if e["kind"] == "status"] == ["closed"]


async def test_a_customer_reply_ends_pending_customer(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.operators.take_over(ticket.id, olga)
    await desk.desk.set_status(ticket.id, "pending_customer", olga, reason="asked for the invoice number")
    desk.clock.advance(hours=2)
    await desk.write("here it is: INV-42")
    # Without a hook in the core, the sweeper sees the reply in the history.
    from gateway.tickets.sweeper import sweep_once

    report = await sweep_once(desk.store)
    assert report.reopened == 1
    detail = await desk.desk.detail(ticket.id)
    assert detail["ticket"]["status"] == "open"
    assert detail["pauses"][0]["ended_at"] is not None
    assert detail["history"][-1]["reason"] == "the customer replied" or any(
        e["reason"] == "the customer replied" for e in detail["history"]
    )


async def test_a_customer_reply_reopens_a_resolved_ticket(desk: Desk, olga: UserView) -> None:
    from gateway.tickets.hooks import on_customer_message

    ticket = await desk.handoff()
    await desk.operators.reply(ticket.conversation_id, olga, "Done, it should work now.")
    await desk.operators.resolve(ticket.id, olga)
    desk.clock.advance(hours=1)
    async with desk.store.tx() as tx:
        conv = await tx.lock_conversation(ticket.conversation_id)
        assert await on_customer_message(tx, conv) is True
    t = await desk.operators.get_ticket(ticket.id)
    assert t.status is S.OPEN and t.resolved_at is None and t.assignee_id == olga.id
    conv_view = await desk.operators.get_conversation(ticket.conversation_id)
    assert conv_view.state is ConversationState.OPERATOR  # the bot stays silent
    # Past the reopen window nothing is reopened.
    await desk.operators.resolve(ticket.id, olga)
    desk.clock.advance(days=8)
    async with desk.store.tx() as tx:
        conv = await tx.lock_conversation(ticket.conversation_id)
        assert await on_customer_message(tx, conv) is False
    assert (await desk.operators.get_ticket(ticket.id)).status is S.RESOLVED


async def test_resolved_tickets_close_after_the_configured_days(desk: Desk, olga: UserView) -> None:
    from gateway.tickets.sweeper import sweep_once

    ticket = await desk.handoff()
    await desk.operators.resolve(ticket.id, olga)
    desk.clock.advance(days=6)
    assert (await sweep_once(desk.store)).closed == 0
    desk.clock.advance(days=2)
    assert (await sweep_once(desk.store)).closed == 1
    assert (await desk.operators.get_ticket(ticket.id)).status is S.CLOSED


async def test_change_listeners_see_every_change_in_its_transaction(desk: Desk, olga: UserView) -> None:
    seen: list[TicketChange] = []

    async def listener(tx: object, change: TicketChange) -> None:
        seen.append(change)

    add_change_listener(listener)
    try:
        ticket = await desk.handoff()
        await desk.operators.take_over(ticket.id, olga)
        await desk.desk.set_priority(ticket.id, olga, urgency="high", impact="high")
    finally:
        remove_change_listener(listener)
    kinds = [c.kind for c in seen]
    assert kinds[0] == "created" and "assign" in kinds and kinds[-1] == "priority"
    assert seen[-1].before["priority"] == "P3" and seen[-1].after["priority"] == "P1"
