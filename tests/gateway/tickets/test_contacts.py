"""The contact log (issue 9), on SQLite and PostgreSQL: a phone call an operator logs
by hand (direction, duration, note, outcome) and the outcome of a contact on the
ticket's own channel are stored, shown in the ticket's timeline, recorded in its
history (the audit listeners see them) and listed; bad input is refused clearly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.audit import Actor
from gateway.customers import erase_customer
from gateway.db.tables import Conversation
from gateway.db.tables_desk import Incident, TicketContact
from gateway.db.tables_tickets import TicketEvent
from gateway.errors import InvalidInputError, NotFoundError
from gateway.tickets.contacts import ContactInput, ContactLog
from gateway.tickets.history import TicketChange, add_change_listener, remove_change_listener
from gateway.tickets.incidents import IncidentService
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk


async def timeline(desk: Desk, conversation_id: int) -> list[str]:
    async with desk.store.read() as tx:
        return [m.text for m in await tx.messages(conversation_id, include_internal=True)]


async def test_a_phone_call_logged_by_hand_is_in_the_timeline_history_and_log(
    desk: Desk, olga: UserView
) -> None:
    ticket = await desk.handoff()
    seen: list[TicketChange] = []

    async def listener(tx: object, change: TicketChange) -> None:
        seen.append(change)

    add_change_listener(listener)
    try:
        call = ContactInput(outcome="information", direction="in", duration_seconds=270,
                            note="Explained the March invoice.")
        logged = await ContactLog(desk.store).log(ticket.id, olga, call)
    finally:
        remove_change_listener(listener)

    assert (logged["channel"], logged["direction"], logged["outcome"]) == ("phone", "in", "information")
    assert logged["duration_seconds"] == 270 and logged["actor"] == "Olga"
    assert (await timeline(desk, ticket.conversation_id))[-1] == (
        "Olga: phone call, incoming, 4 min 30 s: information given. Explained the March invoice."
    )
    [change] = [c for c in seen if c.kind == "contact"]
    assert change.after["outcome"] == "information" and change.actor_id == olga.id
    assert change.reason == "Explained the March invoice."
    listed = await ContactLog(desk.store).listing(ticket.id)
    assert [c["id"] for c in listed] == [logged["id"]]
    assert "ticket.updated" in desk.topics()
    async with desk.store.read() as tx:
        kinds = (await tx.session.execute(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id))).scalars().all()
    assert "contact" in kinds


async def test_a_contact_on_the_tickets_own_channel_records_its_outcome(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    log = ContactLog(desk.store)
    earlier = desk.clock.now() - timedelta(minutes=20)
    await log.log(ticket.id, olga, ContactInput(outcome="callback", channel="conversation", direction="out",
                                                at=earlier))
    desk.clock.advance(minutes=5)
    await log.log(ticket.id, olga, ContactInput(outcome="escalated", direction="out", duration_seconds=60))
    listed = await log.listing(ticket.id)
    assert [(c["channel"], c["outcome"]) for c in listed] == [("fake", "callback"), ("phone", "escalated")]
    assert listed[0]["at"] == earlier.isoformat()  # when it happened, not when it was logged
    lines = await timeline(desk, ticket.conversation_id)
    assert "Olga: contact on fake: callback agreed." in lines
    assert "Olga: phone call, outgoing, 1 min: escalated." in lines


@pytest.mark.parametrize(
    ("contact", "says"),
    [
        (ContactInput(outcome="happy"), "outcome must be one of"),
        (ContactInput(outcome="resolved", direction="sideways"), "direction is"),
        (ContactInput(outcome="resolved", channel="fax"), "channel is"),
        (ContactInput(outcome="resolved", duration_seconds=-1), "duration_seconds"),
        (ContactInput(outcome="resolved", note="x" * 2001), "longer than 2000"),
    ],
)
async def test_bad_contacts_are_refused_with_the_reason(
    desk: Desk, olga: UserView, contact: ContactInput, says: str
) -> None:
    ticket = await desk.handoff()
    with pytest.raises(InvalidInputError, match=says):
        await ContactLog(desk.store).log(ticket.id, olga, contact)
    assert await ContactLog(desk.store).listing(ticket.id) == []


async def test_a_contact_in_the_future_or_on_no_ticket_is_refused(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    later = ContactInput(outcome="resolved", at=desk.clock.now() + timedelta(hours=1))
    with pytest.raises(InvalidInputError, match="future"):
        await ContactLog(desk.store).log(ticket.id, olga, later)
    with pytest.raises(NotFoundError):
        await ContactLog(desk.store).log(999_999, olga, ContactInput(outcome="resolved"))


async def test_erasing_the_customer_blanks_the_notes_and_keeps_the_figures(
    desk: Desk, olga: UserView
) -> None:
    ticket = await desk.handoff("alice", "My invoice from Dr. Alice Martin is wrong")
    await ContactLog(desk.store).log(ticket.id, olga, ContactInput(
        outcome="resolved", duration_seconds=90, note="Alice Martin, 12 rue des Lilas, agreed"))
    made = await IncidentService(desk.store).create(ticket.subject, olga, [ticket.id])
    async with desk.store.read() as tx:
        conversation = await tx.session.get(Conversation, ticket.conversation_id)
        assert conversation is not None
    dpo = Actor("user", olga.id, "dpo")
    await erase_customer(desk.store.sessions, conversation.customer_id, actor=dpo, clock=desk.clock)
    async with desk.store.read() as tx:
        [row] = (await tx.session.execute(select(TicketContact))).scalars().all()
        incident = await tx.session.get(Incident, made["incident"]["id"])
    assert (row.note, row.outcome, row.duration_seconds) == ("", "resolved", 90)
    assert incident is not None and "Alice" not in incident.title
