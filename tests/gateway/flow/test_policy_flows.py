"""Conversation handling through the real router and store: frustration, the
answer did not help, asking again, and the one clarifying question."""

from __future__ import annotations

import pytest

from gateway.flow.router import Router
from gateway.models import ConversationState
from tests.gateway.conftest import Core
from tests.gateway.flow.test_policy import RETRIEVER, SureRetriever


@pytest.fixture
def flows(core: Core) -> Core:
    """The core with a retriever that knows close articles (billing: invoices vs refunds)."""
    core.runner.handlers["route"] = Router(core.store, RETRIEVER, core.settings).handle
    return core


async def last_meta(core: Core, conversation_id: int) -> dict[str, object]:
    msgs = await core.operators.messages(conversation_id)
    return [m for m in msgs if m.direction == "in"][-1].meta


async def test_frustration_hands_off_with_its_reason(flows: Core) -> None:
    r = await flows.channel.receive("ÇA NE MARCHE JAMAIS VOTRE TRUC", message_id="m1")
    await flows.drain()
    [ticket] = await flows.operators.list_tickets()
    assert ticket.handoff_reason == "frustration"
    assert "numéro de ticket" in flows.channel.sent[-1].text
    meta = await last_meta(flows, r.conversation_id)
    assert meta["reason"] == "frustration" and meta["signal"] == "shouting"


async def test_not_helped_after_an_answer_hands_off_with_the_question_as_subject(flows: Core) -> None:
    r = await flows.channel.receive("How do I reset my password?", message_id="m1")
    await flows.drain()
    assert "Title password-reset" in flows.channel.sent[-1].text
    await flows.channel.receive("no it didn't help", message_id="m2")
    await flows.drain()
    [ticket] = await flows.operators.list_tickets()
    assert ticket.handoff_reason == "not_helped"
    assert ticket.subject == "How do I reset my password?"
    meta = await last_meta(flows, r.conversation_id)
    assert meta["question"] == "How do I reset my password?"


async def test_rephrasing_an_answered_question_hands_off_instead_of_repeating(flows: Core) -> None:
    await flows.channel.receive("How do I reset my password?", message_id="m1")
    await flows.drain()
    answers = len(flows.channel.sent)
    await flows.channel.receive("I said: I cannot get a new password", message_id="m2")
    await flows.drain()
    [ticket] = await flows.operators.list_tickets()
    assert ticket.handoff_reason == "repeated_failure"
    assert len(flows.channel.sent) == answers + 1 and flows.channel.sent[-1].meta.get("article_id") is None


async def test_vague_question_gets_one_clarification_and_a_pick_answers(flows: Core) -> None:
    r = await flows.channel.receive("I have a billing question", message_id="m1")
    await flows.drain()
    ask = flows.channel.sent[-1]
    assert "Title invoices" in ask.text and "Title refunds" in ask.text
    assert [q.id for q in ask.quick_replies] == ["pick:1", "pick:2", "none"]
    assert [q.label for q in ask.quick_replies][2] == "None of these"
    assert await flows.operators.list_tickets() == []

    await flows.channel.receive("Title refunds", message_id="m2", quick_reply="pick:2")
    await flows.drain()
    answer = flows.channel.sent[-1]
    assert answer.meta["article_id"] == "refunds" and "Answer of refunds." in answer.text
    meta = await last_meta(flows, r.conversation_id)
    assert (meta["action"], meta["reason"]) == ("answer", "clarified")
    assert meta["question"] == "I have a billing question"
    conv = await flows.operators.get_conversation(r.conversation_id)
    assert conv.state is ConversationState.BOT


async def test_none_of_these_hands_off_with_the_vague_question(flows: Core) -> None:
    await flows.channel.receive("I have a billing question", message_id="m1")
    await flows.drain()
    await flows.channel.receive("None of these", message_id="m2", quick_reply="none")
    await flows.drain()
    [ticket] = await flows.operators.list_tickets()
    assert ticket.handoff_reason == "clarification_declined"
    assert ticket.subject == "I have a billing question"


async def test_a_second_vague_message_in_a_row_hands_off(flows: Core) -> None:
    await flows.channel.receive("I have a billing question", message_id="m1")
    await flows.drain()
    await flows.channel.receive("well, billing in general", message_id="m2")
    await flows.drain()
    [ticket] = await flows.operators.list_tickets()
    assert ticket.handoff_reason == "vague_again"
    clarifications = [s for s in flows.channel.sent if any(q.id == "pick:1" for q in s.quick_replies)]
    assert len(clarifications) == 1


async def test_degenerate_messages_get_a_question_or_a_person_never_an_article(core: Core) -> None:
    """A retriever sure of one article whatever the message: "test" is asked what it
    needs, "agent" and a word that is not the article's topic go to a person."""
    core.runner.handlers["route"] = Router(core.store, SureRetriever(), core.settings).handle
    r = await core.channel.receive("test", message_id="m1")
    await core.drain()
    reply = core.channel.sent[-1]
    assert reply.meta.get("article_id") is None and "What can I help you with?" in reply.text
    assert await core.operators.list_tickets() == []
    meta = await last_meta(core, r.conversation_id)
    assert (meta["action"], meta["reason"]) == ("smalltalk", "degenerate")

    await core.channel.receive("payroll", message_id="m2")
    await core.drain()
    [ticket] = await core.operators.list_tickets()
    assert ticket.handoff_reason == "degenerate"
    assert all(m.meta.get("article_id") is None for m in core.channel.sent)


async def test_a_single_word_asks_for_a_person(core: Core) -> None:
    core.runner.handlers["route"] = Router(core.store, SureRetriever(), core.settings).handle
    await core.channel.receive("agent agent AGENT", message_id="m1")
    await core.drain()
    [ticket] = await core.operators.list_tickets()
    assert ticket.handoff_reason == "explicit_request"
