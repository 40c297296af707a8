"""Incidents (issue 9), on SQLite and PostgreSQL, on a controllable clock: a burst of
similar tickets within the window raises one incident for the supervisors (and only
one), later similar tickets are suggested to it, unrelated or older tickets are not;
supervisors link tickets and answer them all with one status message that each
customer receives once on their own channel, however often it is sent; a closed
incident takes no more changes."""

from __future__ import annotations

import pytest

from gateway.auth import create_user
from gateway.errors import ConflictError, InvalidInputError
from gateway.tickets.incident_scan import scan_once
from gateway.tickets.incidents import IncidentService
from gateway.views import TicketView, UserView
from tests.gateway.tickets.fixtures import Desk

SIMILAR = {
    "alice": "The invoice export fails with error 500 since this morning",
    "bob": "Invoice export fails: error 500",
    "carol": "I get an error 500 when I export my invoice",
    "dave": "Export of invoices fails with error 500 again",
}
OTHER = "How do I change the delivery address of my order?"
STATUS = "We are aware of the invoice export error and are fixing it; we will write again within the hour."


async def ticket(desk: Desk, user: str, text: str) -> TicketView:
    await desk.write(text, user)
    tickets = [t for t in await desk.operators.list_tickets() if t.customer_name == user.title()]
    return tickets[-1] if tickets else await desk.handoff(user)


@pytest.fixture
async def sam(desk: Desk) -> UserView:
    return await create_user(desk.store.sessions, "sam", "correct horse battery", "supervisor", "Sam")


def sent_to(desk: Desk, user: str, text: str = STATUS) -> int:
    return sum(1 for o in desk.channel.sent if o.recipient.address == user and o.text == text)


async def test_a_burst_of_similar_tickets_raises_one_incident(desk: Desk) -> None:
    made = {user: await ticket(desk, user, text) for user, text in list(SIMILAR.items())[:3]}
    other = await ticket(desk, "erin", OTHER)
    desk.clock.advance(minutes=5)

    report = await scan_once(desk.store)
    assert len(report.raised) == 1
    incidents = IncidentService(desk.store)
    detail = await incidents.detail(report.raised[0])
    assert sorted(t["ticket_id"] for t in detail["tickets"]) == sorted(t.id for t in made.values())
    assert {t["state"] for t in detail["tickets"]} == {"suggested"}
    assert other.id not in {t["ticket_id"] for t in detail["tickets"]}
    assert "invoice" in detail["incident"]["title"].lower()
    [raised] = [e for e in desk.events if e.topic == "incident.raised"]
    assert raised.data["incident_id"] == report.raised[0] and raised.data["tickets"] == 3
    assert raised.data["for_roles"] == ["supervisor", "admin"]

    # Scanning again raises nothing more; a fourth similar ticket joins the open incident.
    assert (await scan_once(desk.store)).raised == []
    fourth = await ticket(desk, "dave", SIMILAR["dave"])
    again = await scan_once(desk.store)
    assert again.raised == [] and again.grown == {report.raised[0]: [fourth.id]}
    assert any(e.topic == "incident.updated" for e in desk.events)
    assert [i["id"] for i in await incidents.listing()] == report.raised


async def test_too_few_or_too_spread_out_tickets_raise_nothing(desk: Desk) -> None:
    desk.settings.incidents.window_minutes = 30
    await ticket(desk, "alice", SIMILAR["alice"])
    await ticket(desk, "bob", SIMILAR["bob"])
    await ticket(desk, "erin", OTHER)
    assert (await scan_once(desk.store)).raised == []  # two similar ones: below min_tickets (3)
    desk.clock.advance(minutes=45)
    await ticket(desk, "carol", SIMILAR["carol"])
    assert (await scan_once(desk.store)).raised == []  # the first two are out of the window
    desk.settings.incidents.enabled = False
    desk.clock.advance(minutes=1)
    await ticket(desk, "dave", SIMILAR["dave"])
    await ticket(desk, "frank", SIMILAR["alice"])
    assert (await scan_once(desk.store)).raised == []


async def test_one_status_message_reaches_each_linked_customer_once(desk: Desk, sam: UserView) -> None:
    made = {user: await ticket(desk, user, text) for user, text in list(SIMILAR.items())[:3]}
    [incident_id] = (await scan_once(desk.store)).raised
    incidents = IncidentService(desk.store)
    await incidents.link(incident_id, [made["alice"].id, made["bob"].id], sam)

    result = await incidents.announce(incident_id, STATUS, sam)
    assert sorted(result["sent"]) == sorted([made["alice"].number, made["bob"].number])
    await desk.runner.run_once()  # the outbox sends
    assert (sent_to(desk, "alice"), sent_to(desk, "bob"), sent_to(desk, "carol")) == (1, 1, 0)

    # Sent again (a double click, a retry): nobody gets it twice.
    again = await incidents.announce(incident_id, STATUS, sam)
    assert again["sent"] == []
    assert sorted(again["already"]) == sorted([made["alice"].number, made["bob"].number])
    # Carol's ticket linked later: the next announce reaches only her.
    await incidents.link(incident_id, [made["carol"].id], sam)
    late = await incidents.announce(incident_id, STATUS, sam)
    assert late["sent"] == [made["carol"].number]
    await desk.runner.run_once()
    assert (sent_to(desk, "alice"), sent_to(desk, "bob"), sent_to(desk, "carol")) == (1, 1, 1)

    # It is an operator's reply on each ticket: the first response is met, and it is recorded.
    detail = await desk.desk.detail(made["alice"].id)
    assert detail["ticket"]["first_response_at"] is not None
    assert [h["kind"] for h in detail["history"]].count("incident_status") == 1
    async with desk.store.read() as tx:
        lines = [m.text for m in await tx.messages(made["alice"].conversation_id, include_internal=True)]
    assert lines.count(STATUS) == 1
    assert any(f"linked to incident #{incident_id}" in line for line in lines)
    shown = await incidents.detail(incident_id)
    assert all(t["message_id"] for t in shown["tickets"])

    with pytest.raises(ConflictError, match="other words"):
        await incidents.announce(incident_id, "Fixed now.", sam)
    with pytest.raises(ConflictError, match="stays linked"):
        await incidents.unlink(incident_id, [made["bob"].id], sam)

    closed = await incidents.close(incident_id, sam)
    assert closed["incident"]["status"] == "closed"
    assert any(e.topic == "incident.closed" for e in desk.events)
    with pytest.raises(ConflictError, match="closed"):
        await incidents.link(incident_id, [made["alice"].id], sam)
    assert await incidents.listing("open") == []
    assert [i["id"] for i in await incidents.listing("closed")] == [incident_id]


async def test_an_incident_opened_by_hand_and_bad_input(desk: Desk, sam: UserView) -> None:
    alice = await ticket(desk, "alice", SIMILAR["alice"])
    incidents = IncidentService(desk.store)
    made = await incidents.create("Invoices export down", sam, [alice.id])
    assert made["incident"]["detected"] is False and made["incident"]["linked"] == 1
    with pytest.raises(InvalidInputError):
        await incidents.create("   ", sam)
    with pytest.raises(InvalidInputError):
        await incidents.link(made["incident"]["id"], [], sam)
    with pytest.raises(InvalidInputError):
        await incidents.announce(made["incident"]["id"], "  ", sam)
    empty = await incidents.create("Nothing linked", sam)
    with pytest.raises(ConflictError, match="no ticket is linked"):
        await incidents.announce(empty["incident"]["id"], STATUS, sam)
    # Similar tickets are suggested to the open incident that has one of their topic.
    bob = await ticket(desk, "bob", SIMILAR["bob"])
    carol = await ticket(desk, "carol", SIMILAR["carol"])
    report = await scan_once(desk.store)
    assert report.raised == [] and report.grown == {made["incident"]["id"]: [bob.id, carol.id]}
    await incidents.link(empty["incident"]["id"], [bob.id], sam)  # the refused words were not kept
    sent = await incidents.announce(empty["incident"]["id"], "Other words", sam)
    assert sent["sent"] == [bob.number]
