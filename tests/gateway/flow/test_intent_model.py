"""Asks for a person and anger recognised by meaning (gateway.flow.intent_model), through
the live decision with a retriever that answers everything at 0.99 and carries the term
bridge's encoder (USE).  The phrases are round 5 of stop 16: written after the examples
the model compares with, never among them; each one here was missed by the patterns
alone (docs/answer-quality.md)."""

from __future__ import annotations

import pytest

from gateway.flow import intent_examples
from gateway.flow.intent_model import PERSON, by_meaning
from gateway.flow.policy import PolicyConfig, decide
from gateway.models import Action
from gateway.protocols import Hit, SearchResult
from kb_index.embedder import Embedder, make_term_encoder

pytestmark = pytest.mark.model

CONFIG = PolicyConfig(answer_threshold=0.7)
PATTERNS_MISSED = [
    "Could I be transferred to a human agent?", "pls let me talk to sb", "switch me to a human",
    "je voudrais un échange avec mon conseiller",
    "I'm sick to death of this", "shame on you", "this is a scandal", "votre service est une catastrophe",
    "I am beyond frustrated", "quel service de m***e",
]
STILL_QUESTIONS = [
    "how can a human advisor help me choose a plan?", "I need help with my password",
    "une personne a utilisé ma carte", "the delivery person left my parcel outside",
    "puis-je transférer mon abonnement ?", "what happens if my payment is late?",
]


class AnswersEverything:
    def __init__(self, terms: Embedder | None) -> None:
        self.terms = terms

    async def search(self, text: str, k: int = 5) -> SearchResult:
        top = Hit("lost-card", "Lost or stolen card", "Block it in your account.", 0.9)
        return SearchResult((top,), 0.99, "v1")


@pytest.fixture(scope="module")
def terms() -> Embedder:
    encoder = make_term_encoder("use")
    assert encoder is not None
    return encoder


@pytest.mark.parametrize("text", PATTERNS_MISSED)
async def test_a_request_or_anger_the_patterns_miss_is_handed_off(text: str, terms: Embedder) -> None:
    without = await decide(text, AnswersEverything(None), CONFIG)
    assert without.action is Action.ANSWER, "the patterns alone catch it: not a test of the model"
    decision = await decide(text, AnswersEverything(terms), CONFIG)
    assert (decision.action, decision.signal) == (Action.HANDOFF, "meaning"), (text, decision.reason)


@pytest.mark.parametrize("text", STILL_QUESTIONS)
async def test_a_question_near_the_examples_is_still_answered(text: str, terms: Embedder) -> None:
    decision = await decide(text, AnswersEverything(terms), CONFIG)
    assert decision.action is Action.ANSWER, (text, decision.reason, decision.signal)


async def test_an_example_request_is_recognised_and_nothing_without_an_encoder(terms: Embedder) -> None:
    example = intent_examples.PERSON[40]
    assert await by_meaning(example, AnswersEverything(terms)) == PERSON
    assert await by_meaning(example, AnswersEverything(None)) == ""
