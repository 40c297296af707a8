"""Operator actions: take over, reply on the customer's channel, notes, resolve, hand back."""

from __future__ import annotations

import pytest

from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.models import AuthorKind, ConversationState, MessageKind, TicketStatus
from gateway.views import TicketView, UserView
from tests.gateway.conftest import Core


async def handed_off(core: Core, user: str = "alice") -> TicketView:
    await core.channel.receive("talk to a person", user=user, message_id=f"{user}-h")
    await core.drain()
    tickets = [t for t in await core.operators.list_tickets() if t.customer_name == user.title()]
    return tickets[0]


async def test_take_over_silences_the_bot(core: Core, operator: UserView) -> None:
    ticket = await handed_off(core)
    taken = await core.operators.take_over(ticket.id, operator)
    assert taken.status is TicketStatus.OPEN and taken.assignee_name == "Olga"
    sent_before = len(core.channel.sent)
    await core.channel.receive("How do I reset my password?", message_id="m2")
    await core.drain()
    assert len(core.channel.sent) == sent_before
    conv = await core.operators.get_conversation(ticket.conversation_id)
    assert conv.state is ConversationState.OPERATOR


async def test_reply_is_delivered_on_the_customer_channel(core: Core, operator: UserView) -> None:
    ticket = await handed_off(core)
    msg = await core.operators.reply(ticket.conversation_id, operator, "Hi, Olga here. Let me check.")
    await core.drain()
    last = core.channel.sent[-1]
    assert last.text == "Hi, Olga here. Let me check." and last.author is AuthorKind.OPERATOR
    assert last.author_name == "Olga" and last.recipient.address == "alice"
    assert msg.delivery == "queued"
    after = await core.operators.messages(ticket.conversation_id)
    assert next(m for m in after if m.id == msg.id).delivery == "sent"
    t = await core.operators.get_ticket(ticket.id)
    assert t.first_response_at is not None and t.status is TicketStatus.OPEN  # reply takes over


async def test_internal_note_never_reaches_the_customer(core: Core, operator: UserView) -> None:
    ticket = await handed_off(core)
    sent_before = len(core.channel.sent)
    await core.operators.add_note(ticket.conversation_id, operator, "customer is angry, be gentle")
    await core.drain()
    assert len(core.channel.sent) == sent_before
    _, public = await core.store.history("fake", "alice")
    assert all("angry" not in m.text for m in public)
    full = await core.operators.messages(ticket.conversation_id)
    assert any(m.kind is MessageKind.NOTE and "angry" in m.text for m in full)


async def test_resolve_informs_the_customer(core: Core, operator: UserView) -> None:
    ticket = await handed_off(core)
    await core.operators.take_over(ticket.id, operator)
    resolved = await core.operators.resolve(ticket.id, operator)
    await core.drain()
    assert resolved.status is TicketStatus.RESOLVED and resolved.resolved_at is not None
    assert ticket.number in core.channel.sent[-1].text and "resolved" in core.channel.sent[-1].text
    assert await core.operators.list_tickets() == []
    with pytest.raises(ConflictError):
        await core.operators.resolve(ticket.id, operator)


async def test_hand_back_lets_the_bot_answer_again(core: Core, operator: UserView) -> None:
    ticket = await handed_off(core)
    await core.operators.take_over(ticket.id, operator)
    conv = await core.operators.hand_back(ticket.conversation_id, operator)
    assert conv.state is ConversationState.BOT
    await core.channel.receive("reset my password", message_id="m3")
    await core.drain()
    assert "Title reset-password" in core.channel.sent[-1].text


async def test_ticket_taken_by_someone_else_is_a_conflict(core: Core, operator: UserView) -> None:
    from gateway.auth import create_user

    other = await create_user(core.store.sessions, "paul", "another long password", "operator")
    ticket = await handed_off(core)
    await core.operators.take_over(ticket.id, operator)
    with pytest.raises(ConflictError):
        await core.operators.take_over(ticket.id, other)


async def test_bad_input_and_unknown_ids(core: Core, operator: UserView) -> None:
    ticket = await handed_off(core)
    with pytest.raises(InvalidInputError):
        await core.operators.reply(ticket.conversation_id, operator, "   ")
    with pytest.raises(InvalidInputError):
        await core.operators.reply(ticket.conversation_id, operator, "x" * 10_001)
    with pytest.raises(NotFoundError):
        await core.operators.take_over(999, operator)
    with pytest.raises(NotFoundError):
        await core.operators.messages(999)


async def test_customer_message_on_operator_conversation_reaches_operators_live(
    core: Core, operator: UserView
) -> None:
    ticket = await handed_off(core)
    await core.operators.take_over(ticket.id, operator)
    events = core.bus.subscribe("message.")
    await core.channel.receive("are you there?", message_id="m9")
    event = events.queue.get_nowait()
    assert event is not None
    assert event.data["conversation_id"] == ticket.conversation_id
    assert event.data["message"]["text"] == "are you there?"
