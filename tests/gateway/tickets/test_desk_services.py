"""Queues, assignment to a colleague, round-robin within capacity, transfer with a
reason, escalation; appointments with reminders and missed ones; canned responses;
ticket views and search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.errors import ConflictError, InvalidInputError
from gateway.models import ConversationState
from gateway.tickets.search import TicketQuery
from gateway.tickets.sweeper import sweep_once
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk


async def test_assign_to_a_colleague_and_back(desk: Desk, olga: UserView, paul: UserView) -> None:
    ticket = await desk.handoff()
    change = await desk.queues.assign(ticket.id, olga, paul.id, reason="knows billing")
    assert change.before == {"assignee_id": None, "status": "new"}
    assert change.after == {"assignee_id": paul.id, "status": "open"}
    assert "ticket.assigned" in desk.topics()
    conv = await desk.operators.get_conversation(ticket.conversation_id)
    assert conv.state is ConversationState.OPERATOR and conv.assignee_id == paul.id
    with pytest.raises(ConflictError):
        await desk.queues.assign(ticket.id, olga, paul.id)
    await desk.queues.assign(ticket.id, olga, None)
    assert (await desk.operators.get_ticket(ticket.id)).status.value == "new"


async def test_round_robin_among_present_members_within_capacity(
    desk: Desk, olga: UserView, paul: UserView
) -> None:
    await desk.queues.set_members("L1", [olga.id, paul.id])
    await desk.queues.set_presence(olga.id, present=True, capacity=1)
    await desk.queues.set_presence(paul.id, present=True, capacity=2)
    tickets = [await desk.handoff(user=name) for name in ("ann", "bob", "cid", "dan")]
    changes = await desk.queues.round_robin("L1")
    holders = [c.after["assignee_id"] for c in changes]
    assert sorted(holders) == sorted([olga.id, paul.id, paul.id])  # 1 + 2, the fourth waits
    assert holders[0] != holders[1]  # turns alternate
    left = await desk.search.find(TicketQuery(view="unassigned"), olga.id)
    assert [t["id"] for t in left] == [tickets[-1].id]
    await desk.queues.set_presence(olga.id, present=False)
    assert await desk.queues.round_robin("L1") == []  # nobody present with room


async def test_transfer_needs_a_reason_escalation_goes_to_l2(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    await desk.operators.take_over(ticket.id, olga)
    with pytest.raises(InvalidInputError, match="reason"):
        await desk.queues.transfer(ticket.id, olga, queue="L2", reason=" ")
    await desk.queues.save_queue("billing", "Billing", 0)
    change = await desk.queues.transfer(ticket.id, olga, queue="billing", reason="invoice question")
    assert change.after == {"queue": "billing", "assignee_id": None, "status": "new"}
    change = await desk.queues.escalate(ticket.id, olga, "needs a developer")
    assert change.kind == "escalate" and change.after["queue"] == "L2"
    with pytest.raises(ConflictError, match="second level"):
        await desk.queues.escalate(ticket.id, olga, "again")
    queues = {q.name: q.level for q in await desk.queues.list_queues()}
    assert queues == {"L1": 1, "L2": 2, "billing": 0}


async def test_callback_tells_the_customer_reminds_and_lists_missed(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    due = desk.clock.now() + timedelta(hours=2)
    appointment = await desk.appointments.schedule(ticket.id, olga, due, phone="+33 1 23 45 67 89",
                                                   note="call about the refund", timezone="Europe/Paris")
    assert appointment["customer_told"]
    await desk.runner.run_once()
    assert "12:00 (Europe/Paris time)" in desk.channel.sent[-1].text  # 11:00 UTC in January
    desk.clock.advance(hours=1)
    assert (await sweep_once(desk.store)).reminders == 0
    desk.clock.advance(hours=1)
    desk.events.clear()
    assert (await sweep_once(desk.store)).reminders == 1
    due_events = [e for e in desk.events if e.topic == "appointment.due"]
    assert due_events and due_events[0].data["owner_id"] == olga.id
    assert (await sweep_once(desk.store)).reminders == 0  # reminded once
    desk.clock.advance(minutes=31)
    await sweep_once(desk.store)
    missed = await desk.appointments.listing(status="missed")
    assert [m["id"] for m in missed] == [appointment["id"]]
    with pytest.raises(InvalidInputError, match="future"):
        await desk.appointments.schedule(ticket.id, olga, desk.clock.now() - timedelta(minutes=1))


async def test_canned_response_fills_customer_name_and_ticket_number(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff(user="zoe")
    saved = await desk.canned.save(olga, "Hello", "Hello {customer_name}, about {ticket_number}: {{ok}}")
    text = await desk.canned.render(saved["id"], ticket.id, olga)
    assert text == f"Hello Zoe, about {ticket.number}: {{ok}}"
    with pytest.raises(InvalidInputError, match="unknown variables"):
        await desk.canned.save(olga, "Bad", "Dear {name}")
    with pytest.raises(ConflictError):
        await desk.canned.save(olga, "Hello", "Hi")


async def test_views_search_filters_and_sorts(desk: Desk, olga: UserView, paul: UserView) -> None:
    a = await desk.handoff(user="ann", text="my invoice is wrong, I want a person")
    b = await desk.handoff(user="bob", text="THIS IS USELESS, A HUMAN PLEASE")
    c = await desk.handoff(user="cid")
    await sweep_once(desk.store)
    await desk.operators.take_over(a.id, olga)
    await desk.queues.set_members("L2", [olga.id])
    await desk.queues.escalate(c.id, paul, "hard one")
    await desk.desk.set_status(b.id, "pending_third_party", paul)

    async def ids(**kw: object) -> list[int]:
        return [t["id"] for t in await desk.search.find(TicketQuery(**kw), olga.id)]  # type: ignore[arg-type]

    assert await ids(view="mine") == [a.id]
    assert await ids(view="pending") == [b.id]
    assert await ids(view="my_queues") == [c.id]
    assert set(await ids(view="open")) == {a.id, b.id, c.id}
    assert await ids(view="open", text="invoice") == [a.id]  # in a message
    assert await ids(view="open", text="bob") == [b.id]  # the customer
    assert await ids(view="open", text=c.number) == [c.id]  # the number
    assert (await ids(view="open", sort="priority"))[0] == b.id  # P2 first
    assert await ids(view="open", priorities=["P2"]) == [b.id]
    await desk.operators.resolve(a.id, olga)
    assert await ids(view="resolved") == [a.id]
    with pytest.raises(InvalidInputError):
        await ids(view="everything")
