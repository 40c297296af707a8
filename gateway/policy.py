"""Bot policy: for one customer message, answer from the knowledge base, reply
with a short courtesy, or hand off to a person.

This is the one decision function: the live router and ``guichet kb eval`` both
call :func:`decide`, so what is measured is what customers get.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.intents import Intent, classify
from gateway.language import detect
from gateway.models import Action
from gateway.protocols import Hit, Retriever, SearchResult


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    answer_threshold: float = 0.5
    top_k: int = 5


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str  # human-readable why: "explicit_request", "low_confidence", "confident", ...
    lang: str
    confidence: float = 0.0
    hit: Hit | None = None
    result: SearchResult | None = None
    intent: Intent = Intent.NONE


async def decide(
    text: str,
    retriever: Retriever,
    config: PolicyConfig,
    *,
    quick_reply: str | None = None,
    lang_hint: str | None = None,
) -> Decision:
    lang = detect(text, lang_hint)
    intent = classify(text, quick_reply)
    if intent is Intent.HUMAN:
        return Decision(Action.HANDOFF, "explicit_request", lang, intent=intent)
    if intent in (Intent.EMPTY, Intent.GREETING, Intent.THANKS, Intent.SOLVED):
        return Decision(Action.SMALLTALK, intent.value, lang, intent=intent)
    result = await retriever.search(text, k=config.top_k)
    top = result.top
    if top is None:
        return Decision(Action.HANDOFF, "no_match", lang, 0.0, None, result)
    if result.confidence >= config.answer_threshold:
        return Decision(Action.ANSWER, "confident", lang, result.confidence, top, result)
    return Decision(Action.HANDOFF, "low_confidence", lang, result.confidence, top, result)
