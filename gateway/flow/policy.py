"""Bot policy: for one customer message, answer from the knowledge base, reply
with a short courtesy, ask one clarifying question, or hand off to a person.

This is the one decision function: the live router and ``guichet kb eval`` both
call :func:`decide`, so what is measured is what customers get.  The eval calls
it without a :class:`ConversationContext` (single turn); the router passes what
the conversation so far says (questions answered, the last article given, a
clarifying question just asked).

Reasons recorded with a decision:

- handoff: ``explicit_request``, ``frustration``, ``not_helped``,
  ``repeated_failure``, ``clarification_declined``, ``vague_again``, ``no_match``,
  ``low_confidence``, ``degenerate`` (one word that is not the top article's topic);
- answer: ``confident``, ``clarified`` (the customer picked an offered article);
- clarify: ``vague`` (two close articles, neither sure enough, both plausible for the
  message: :mod:`gateway.flow.plausible`; otherwise a ``low_confidence`` handoff with
  the signal ``not_plausible``);
- smalltalk: the intent (``greeting``, ``thanks``, ``solved``, ``empty``), or
  ``degenerate`` (no words, one character, "test": asked what they need).

Degenerate messages (:mod:`gateway.flow.degenerate`) are never answered on
lexical evidence alone, whatever the confidence.

Asks for a person and anger that the patterns miss are recognised by meaning when the
retriever has a multilingual word encoder (:mod:`gateway.flow.intent_model`; signal
``meaning``), for a message that would otherwise be answered or get a clarifying question.

An answer is given in the customer's language when the result holds the article's
translation (:mod:`gateway.flow.translations`; signal ``translation``); otherwise the
article as it is, and :func:`gateway.flow.replies.format_answer` says in the customer's
language which language it is in.  A frustrated customer's handoff (reason
``frustration``) is told the apologetic text (:func:`gateway.flow.replies.handoff_text`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import BotSettings
from gateway.flow.degenerate import degenerate, names_topic
from gateway.flow.intent_model import ANGRY, PERSON, by_meaning
from gateway.flow.intents import Intent, classify
from gateway.flow.plausible import plausible
from gateway.flow.signals import (
    ConversationContext,
    declines_options,
    frustration,
    is_rephrase,
    not_helped,
)
from gateway.flow.translations import group_translations, translation_in
from gateway.language import detect
from gateway.models import Action
from gateway.protocols import Hit, Retriever, SearchResult

PICK_PREFIX = "pick:"  # quick-reply ids of clarification options: "pick:1", "pick:2"
DECLINE_ID = "none"  # quick-reply id of "None of these"


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    answer_threshold: float = 0.5
    top_k: int = 5
    clarify: bool = True  # ask one clarifying question on a vague message
    clarify_floor: float = 0.3  # ...when the top confidence is at least this
    clarify_margin: float = 0.1  # ...and the second score is within 10 % of the top score

    @classmethod
    def from_settings(cls, bot: BotSettings) -> PolicyConfig:
        return cls(answer_threshold=bot.answer_threshold, top_k=bot.top_k, clarify=bot.clarify,
                   clarify_floor=bot.clarify_floor, clarify_margin=bot.clarify_margin)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str  # why: "explicit_request", "low_confidence", "confident", "frustration", ...
    lang: str
    confidence: float = 0.0
    hit: Hit | None = None
    result: SearchResult | None = None
    intent: Intent = Intent.NONE
    options: tuple[Hit, ...] = ()  # clarify: the articles offered
    question: str = ""  # the customer question this decision is about (may be an earlier one)
    signal: str = ""  # which marker fired, e.g. "shouting", "same_article", "overlap"


async def decide(
    text: str,
    retriever: Retriever,
    config: PolicyConfig,
    *,
    quick_reply: str | None = None,
    lang_hint: str | None = None,
    context: ConversationContext | None = None,
) -> Decision:
    ctx = context or ConversationContext()
    lang = detect(text, lang_hint)
    previous = ctx.answered_questions[-1] if ctx.answered_questions else ""
    intent = classify(text, quick_reply)
    if intent is Intent.HUMAN:
        return Decision(Action.HANDOFF, "explicit_request", lang, intent=intent, question=previous)
    if intent is Intent.EMPTY and frustration(text) == "emoji":  # an angry emoji and nothing else
        return Decision(Action.HANDOFF, "frustration", lang, question=previous, signal="emoji")
    if intent in (Intent.EMPTY, Intent.GREETING, Intent.THANKS, Intent.SOLVED):
        return Decision(Action.SMALLTALK, intent.value, lang, intent=intent)
    if ctx.clarification_pending:
        picked = await _clarification_reply(text, retriever, config, lang, quick_reply, ctx)
        if picked is not None:
            return picked
    marker = frustration(text)
    if marker:
        return Decision(Action.HANDOFF, "frustration", lang, question=previous,
                        signal=marker)
    if intent is Intent.NOT_HELPED or not_helped(text, after_answer=ctx.last_answer_article is not None):
        return Decision(Action.HANDOFF, "not_helped", lang, question=previous or text)
    thin = degenerate(text)
    if thin and thin != "one_word":
        return Decision(Action.SMALLTALK, "degenerate", lang, intent=Intent.EMPTY, signal=thin)
    result = await retriever.search(text, k=config.top_k)
    top = result.top
    if top is None:
        return Decision(Action.HANDOFF, "no_match", lang, 0.0, None, result, question=text)
    if thin and not names_topic(text, top.title):
        return Decision(Action.HANDOFF, "degenerate", lang, result.confidence, top, result,
                        question=text, signal=thin)
    repeat = _repeat_signal(text, top, ctx)
    if repeat:
        return Decision(Action.HANDOFF, "repeated_failure", lang, result.confidence, top, result,
                        question=text, signal=repeat)
    if result.confidence >= config.answer_threshold:
        meant = await _meaning_handoff(text, retriever, lang, previous)
        if meant is not None:
            return meant
        own = translation_in(top, result.hits, lang)
        return Decision(Action.ANSWER, "confident", lang, result.confidence, own or top, result,
                        question=text, signal="translation" if own else "")
    options = _close_pair(result, config, lang)
    if options and ctx.clarification_pending:
        return Decision(Action.HANDOFF, "vague_again", lang, result.confidence, top, result,
                        question=ctx.clarification_question or text)
    if options and not await _all_plausible(text, options, retriever, result):
        return Decision(Action.HANDOFF, "low_confidence", lang, result.confidence, top, result,
                        question=text, signal="not_plausible")
    if options:
        meant = await _meaning_handoff(text, retriever, lang, previous)
        return meant or Decision(Action.CLARIFY, "vague", lang, result.confidence, top, result,
                                 options=options, question=text)
    return Decision(Action.HANDOFF, "low_confidence", lang, result.confidence, top, result, question=text)


async def _meaning_handoff(text: str, retriever: Retriever, lang: str, previous: str) -> Decision | None:
    """A request for a person or anger the patterns missed, recognised by meaning
    (:mod:`gateway.flow.intent_model`); asked only of a message the bot would answer or
    clarify, the others being handed off anyway (it costs a sentence encode)."""
    meaning = await by_meaning(text, retriever)
    if meaning == PERSON:
        return Decision(Action.HANDOFF, "explicit_request", lang, intent=Intent.HUMAN, question=previous,
                        signal="meaning")
    if meaning == ANGRY:
        return Decision(Action.HANDOFF, "frustration", lang, question=previous, signal="meaning")
    return None


def _repeat_signal(text: str, top: Hit, ctx: ConversationContext) -> str:
    """The customer asks again what the bot already answered: the answer did not help."""
    if ctx.last_answer_article is not None and top.article_id == ctx.last_answer_article:
        return "same_article"
    if is_rephrase(text, ctx.answered_questions):
        return "overlap"
    return ""


async def _all_plausible(
    text: str, options: tuple[Hit, ...], retriever: Retriever, result: SearchResult
) -> bool:
    for option in options:
        known = result.extras.get("offtopic_level")
        level = float(known) if isinstance(known, int | float) else None
        if not await plausible(text, option, retriever, result.index_version, level):
            return False
    return True


def _close_pair(result: SearchResult, config: PolicyConfig, lang: str = "") -> tuple[Hit, ...]:
    """The two top articles when they are about as good as each other and the top
    one is at least plausible: worth asking which one the customer means.  An
    article's translation is not a second option: each topic is offered once, in
    ``lang`` when the result has it in that language."""
    topics = [group[0] for group in group_translations(result.hits, lang)]
    if not config.clarify or len(topics) < 2 or result.confidence < config.clarify_floor:
        return ()
    first, second = topics[0], topics[1]
    if first.score <= 0 or second.score < first.score * (1.0 - config.clarify_margin):
        return ()
    return (first, second)


async def _clarification_reply(
    text: str,
    retriever: Retriever,
    config: PolicyConfig,
    lang: str,
    quick_reply: str | None,
    ctx: ConversationContext,
) -> Decision | None:
    """The answer to our clarifying question: an option picked, or none of them.
    None: the customer wrote something else, decided as a new message."""
    question = ctx.clarification_question or ""
    if quick_reply == DECLINE_ID or (quick_reply is None and declines_options(text)):
        return Decision(Action.HANDOFF, "clarification_declined", lang, question=question)
    picked = _picked_option(text, quick_reply, ctx)
    if picked is None:
        return None
    for query in (question, text):
        result = await retriever.search(query, k=max(config.top_k, 10)) if query else None
        hit = next((h for h in result.hits if h.article_id == picked), None) if result else None
        if result is not None and hit is not None:
            return Decision(Action.ANSWER, "clarified", lang, result.confidence, hit, result,
                            question=question)
    return Decision(Action.HANDOFF, "clarification_lost", lang, question=question)


def _picked_option(text: str, quick_reply: str | None, ctx: ConversationContext) -> str | None:
    options = ctx.clarification_options
    if quick_reply and quick_reply.startswith(PICK_PREFIX):
        number = quick_reply.removeprefix(PICK_PREFIX)
        if number.isdigit() and 1 <= int(number) <= len(options):
            return options[int(number) - 1].article_id
        return None
    typed = text.strip().casefold()
    for option in options:  # the title typed (or pasted) instead of pressed
        if typed and typed == option.title.strip().casefold():
            return option.article_id
    return None
