"""The route job: bot answer, courtesy reply, or handoff with a ticket."""

from __future__ import annotations

from gateway.models import AuthorKind, ConversationState, TicketStatus
from tests.gateway.conftest import Core


async def test_confident_match_answers_with_article_and_quick_replies(core: Core) -> None:
    await core.channel.receive("How do I reset my password?", message_id="m1")
    await core.drain()
    [sent] = core.channel.sent
    assert sent.author is AuthorKind.BOT
    assert "Title reset-password" in sent.text and "Answer of reset-password." in sent.text
    assert [q.id for q in sent.quick_replies] == ["solved", "handoff"]
    assert sent.meta["article_id"] == "reset-password"


async def test_low_confidence_hands_off_with_ticket_number_and_delay(core: Core) -> None:
    events = core.bus.subscribe("ticket.")
    r = await core.channel.receive("Where is my invoice from March?", message_id="m1")
    await core.drain()
    [sent] = core.channel.sent
    tickets = await core.operators.list_tickets()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.number.startswith("G-") and ticket.number in sent.text
    assert "30 minutes" in sent.text
    assert ticket.queue == "L1" and ticket.status is TicketStatus.NEW
    assert ticket.subject == "Where is my invoice from March?"
    assert ticket.handoff_reason == "low_confidence"
    conv = await core.operators.get_conversation(r.conversation_id)
    assert conv.state is ConversationState.PENDING
    event = events.queue.get_nowait()
    assert event is not None and event.topic == "ticket.created"
    assert event.data["ticket"]["number"] == ticket.number


async def test_talk_to_a_person_quick_reply_hands_off_with_the_question_as_subject(core: Core) -> None:
    await core.channel.receive("How do I reset my password?", message_id="m1")
    await core.drain()
    await core.channel.receive("No, talk to a person", message_id="m2", quick_reply="handoff")
    await core.drain()
    [ticket] = await core.operators.list_tickets()
    assert ticket.subject == "How do I reset my password?"
    assert ticket.handoff_reason == "explicit_request"


async def test_french_request_for_a_person_is_answered_in_french(core: Core) -> None:
    await core.channel.receive("Je voudrais parler à un conseiller s'il vous plaît", message_id="m1")
    await core.drain()
    [sent] = core.channel.sent
    assert "numéro de ticket" in sent.text
    assert core.retriever.calls == []  # no article search for an explicit request


async def test_greeting_gets_a_short_reply_and_never_an_article(core: Core) -> None:
    await core.channel.receive("Bonjour !", message_id="m1")
    await core.channel.receive("thanks", message_id="m2", user="bob")
    await core.drain()
    texts = [s.text for s in core.channel.sent]
    assert any(t.startswith("Bonjour") for t in texts)
    assert any("welcome" in t for t in texts)
    assert all("Here is what I found" not in t for t in texts)
    assert core.retriever.calls == []
    assert await core.operators.list_tickets() == []


async def test_yes_solved_closes_the_conversation_as_deflected(core: Core) -> None:
    r = await core.channel.receive("password reset?", message_id="m1")
    await core.drain()
    await core.channel.receive("Yes, solved", message_id="m2", quick_reply="solved")
    await core.drain()
    conv = await core.operators.get_conversation(r.conversation_id)
    assert conv.state is ConversationState.RESOLVED
    assert await core.operators.list_tickets() == []


async def test_after_handoff_the_bot_stays_silent(core: Core) -> None:
    await core.channel.receive("agent please", message_id="m1")
    await core.drain()
    before = len(core.channel.sent)
    await core.channel.receive("How do I reset my password?", message_id="m2")
    await core.drain()
    assert len(core.channel.sent) == before
    assert core.retriever.calls == []


async def test_auto_replies_are_never_answered(core: Core) -> None:
    from datetime import UTC, datetime

    from gateway.models import Identity, Inbound

    await core.store.accept_inbound(
        Inbound(
            "fake",
            "ooo-1",
            "t",
            Identity("fake", "t"),
            "I am out of office",
            datetime.now(UTC),
            auto_submitted=True,
        )
    )
    await core.drain()
    assert core.channel.sent == []


async def test_route_runs_once_even_if_the_job_is_run_twice(core: Core) -> None:
    r = await core.channel.receive("reset password", message_id="m1")
    async with core.store.tx() as tx:
        tx.enqueue("route", {"message_id": r.message_id})  # as if redelivered after a crash
    await core.drain()
    assert len(core.channel.sent) == 1


async def test_decision_is_recorded_on_the_customer_message(core: Core) -> None:
    r = await core.channel.receive("reset password", message_id="m1")
    await core.drain()
    msgs = await core.operators.messages(r.conversation_id)
    meta = msgs[0].meta
    assert meta["action"] == "answer" and meta["article_id"] == "reset-password"
    assert meta["confidence"] == 0.9 and meta["index_version"] == "v-test"
