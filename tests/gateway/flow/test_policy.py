"""The one decision function, single-turn (as ``guichet kb eval`` calls it) and
with a conversation context (as the router calls it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.flow.policy import PolicyConfig, decide
from gateway.flow.signals import ClarifyOption, ConversationContext
from gateway.models import Action
from gateway.protocols import Hit, SearchResult

CONFIG = PolicyConfig(answer_threshold=0.7)


def hit(article: str, score: float) -> Hit:
    return Hit(article, f"Title {article}", f"Answer of {article}.", score)


@dataclass
class TableRetriever:
    """keyword -> (hits as (article, score), confidence); the first key found wins."""

    table: dict[str, tuple[list[tuple[str, float]], float]]
    calls: list[str] = field(default_factory=list)

    async def search(self, text: str, k: int = 5) -> SearchResult:
        self.calls.append(text)
        for key, (hits, confidence) in self.table.items():
            if key in text.lower():
                return SearchResult(tuple(hit(a, s) for a, s in hits[:k]), confidence, "v1")
        return SearchResult((), 0.0, "v1")


RETRIEVER = TableRetriever(
    {
        "password": ([("password-reset", 0.8), ("sso", 0.4)], 0.9),
        "billing": ([("invoices", 0.52), ("refunds", 0.5)], 0.4),
        "weather": ([("shipping", 0.2), ("returns", 0.19)], 0.05),
        "invoice": ([("invoices", 0.6), ("refunds", 0.3)], 0.3),
    }
)


async def test_single_turn_decisions_need_no_context() -> None:
    assert (await decide("reset my password", RETRIEVER, CONFIG)).action is Action.ANSWER
    low = await decide("where is my invoice", RETRIEVER, CONFIG)
    assert (low.action, low.reason, low.question) == (Action.HANDOFF, "low_confidence", "where is my invoice")
    assert (await decide("sing me a song about trains", RETRIEVER, CONFIG)).reason == "no_match"
    assert (await decide("tell me a joke", RETRIEVER, CONFIG)).action is Action.SMALLTALK  # about the bot


async def test_two_close_articles_get_one_clarifying_question() -> None:
    decision = await decide("a billing question", RETRIEVER, CONFIG)
    assert decision.action is Action.CLARIFY and decision.reason == "vague"
    assert [h.article_id for h in decision.options] == ["invoices", "refunds"]


async def test_close_articles_below_the_floor_are_handed_off_not_offered() -> None:
    decision = await decide("what's the weather", RETRIEVER, CONFIG)
    assert decision.action is Action.HANDOFF and decision.reason == "low_confidence"
    off = await decide("a billing question", RETRIEVER, PolicyConfig(answer_threshold=0.7, clarify=False))
    assert off.action is Action.HANDOFF


async def test_the_clarification_settings_come_from_the_bot_settings() -> None:
    from gateway.config import load_settings

    env = {"GUICHET_BOT_CLARIFY_FLOOR": "0.5", "GUICHET_BOT_ANSWER_THRESHOLD": "0.7"}
    settings = load_settings(None, environ=env)
    config = PolicyConfig.from_settings(settings.bot)
    assert (config.answer_threshold, config.clarify_floor) == (0.7, 0.5)
    # confidence 0.4: above the default floor (0.3), below this one
    assert (await decide("a billing question", RETRIEVER, PolicyConfig(0.7))).action is Action.CLARIFY
    assert (await decide("a billing question", RETRIEVER, config)).action is Action.HANDOFF


async def test_frustration_hands_off_without_searching() -> None:
    retriever = TableRetriever(RETRIEVER.table)
    for text in ("THIS PASSWORD THING IS BROKEN", "c'est nul", "I already told you!!!"):
        decision = await decide(text, retriever, CONFIG)
        assert (decision.action, decision.reason) == (Action.HANDOFF, "frustration"), text
    assert retriever.calls == []


async def test_not_helped_hands_off_about_the_previous_question() -> None:
    ctx = ConversationContext(("reset my password",), "password-reset")
    decision = await decide("non ça ne m'a pas aidé", RETRIEVER, CONFIG, context=ctx)
    assert (decision.action, decision.reason) == (Action.HANDOFF, "not_helped")
    assert decision.question == "reset my password"
    assert (await decide("no", RETRIEVER, CONFIG, context=ctx)).reason == "not_helped"


async def test_asking_again_for_the_answered_article_is_a_repeated_failure() -> None:
    ctx = ConversationContext(("reset my password",), "password-reset")
    decision = await decide("I still cannot change my password", RETRIEVER, CONFIG, context=ctx)
    assert (decision.action, decision.reason, decision.signal) == (
        Action.HANDOFF, "repeated_failure", "same_article")
    lexical = ConversationContext(("where is my invoice for March",), "invoices-old")
    again = await decide("Where is my March invoice?", RETRIEVER, CONFIG, context=lexical)
    assert (again.reason, again.signal) == ("repeated_failure", "overlap")


async def test_picking_an_offered_article_answers_with_it() -> None:
    options = (ClarifyOption("invoices", "Title invoices"), ClarifyOption("refunds", "Title refunds"))
    ctx = ConversationContext((), None, "a billing question", options)
    picked = await decide("Title refunds", RETRIEVER, CONFIG, quick_reply="pick:2", context=ctx)
    assert (picked.action, picked.reason) == (Action.ANSWER, "clarified")
    assert picked.hit is not None and picked.hit.article_id == "refunds"
    typed = await decide("title invoices", RETRIEVER, CONFIG, context=ctx)
    assert typed.hit is not None and typed.hit.article_id == "invoices"


async def test_none_of_these_or_a_second_vague_message_hands_off() -> None:
    ctx = ConversationContext((), None, "a billing question",
                              (ClarifyOption("invoices", "I"), ClarifyOption("refunds", "R")))
    declined = await decide("None of these", RETRIEVER, CONFIG, quick_reply="none", context=ctx)
    assert (declined.action, declined.reason) == (Action.HANDOFF, "clarification_declined")
    assert declined.question == "a billing question"
    vague = await decide("billing stuff again", RETRIEVER, CONFIG, context=ctx)
    assert (vague.action, vague.reason) == (Action.HANDOFF, "vague_again")
    clear = await decide("reset my password", RETRIEVER, CONFIG, context=ctx)
    assert clear.action is Action.ANSWER  # a clear new question is simply answered


@dataclass
class SureRetriever:
    """Whatever the message, one article at a high confidence: lexical evidence
    that a guard must overrule."""

    article: str = "pricing-tests"
    title: str = "Test plans and agent pricing"
    calls: list[str] = field(default_factory=list)

    async def search(self, text: str, k: int = 5) -> SearchResult:
        self.calls.append(text)
        return SearchResult((Hit(self.article, self.title, "Answer.", 0.9),), 0.95, "v1")


async def test_degenerate_messages_are_never_answered_with_an_article() -> None:
    # the title shares "test" and "agent": only the guard keeps these from the answer
    for text in ("test", "Test 123", "???", "😀👍", "a", "x", "...", "essai"):
        retriever = SureRetriever()
        decision = await decide(text, retriever, CONFIG)
        assert decision.action is Action.SMALLTALK and decision.reason in ("degenerate", "empty"), text
        assert decision.hit is None and retriever.calls == []
    assert (await decide("agent agent AGENT", SureRetriever(), CONFIG)).reason == "explicit_request"


async def test_one_word_answers_only_when_it_names_the_top_article() -> None:
    for text in ("payroll", "Bitcoin", "bitcoin bitcoin BITCOIN", "payroll svp"):
        decision = await decide(text, SureRetriever(), CONFIG)
        assert (decision.action, decision.reason) == (Action.HANDOFF, "degenerate"), text
    # the word is the article's topic: the retriever's confidence decides as usual
    sure = SureRetriever("password-reset", "Reset your password")
    assert (await decide("password", sure, CONFIG)).action is Action.ANSWER
    assert (await decide("passwords passwords", sure, CONFIG)).action is Action.ANSWER
    # a real question is not a degenerate message
    assert (await decide("how do I pay for the test plan", SureRetriever(), CONFIG)).action is Action.ANSWER


async def test_informal_did_not_help_hands_off_without_an_answer() -> None:
    ctx = ConversationContext(("reset my password",), "password-reset")
    for text in ("ça m'aide pas", "c pas ça", "not helpful"):
        decision = await decide(text, SureRetriever(), CONFIG, context=ctx)
        assert (decision.action, decision.reason) == (Action.HANDOFF, "not_helped"), text
        assert decision.question == "reset my password"
