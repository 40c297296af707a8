"""Asks for a person and angry messages are handed off, and chit-chat never gets an
article, whatever the knowledge base would say (issue 10, acceptance 1): each phrase
goes through the live decision with a retriever that answers everything with
confidence 0.99, the worst case.

The phrases were written for this test (French and English, typos, SMS spelling,
capitals), not taken from any evaluation set.  ``NOT_SIGNALS`` are questions that
look like one of those and must still reach the knowledge base."""

from __future__ import annotations

import pytest

from gateway.flow.policy import PolicyConfig, decide
from gateway.models import Action
from gateway.protocols import Hit, SearchResult

CONFIG = PolicyConfig(answer_threshold=0.7)


class AnswersEverything:
    async def search(self, text: str, k: int = 5) -> SearchResult:
        top = Hit("lost-card", "Lost or stolen card", "Block it in your account.", 0.9)
        return SearchResult((top,), 0.99, "v1")


PERSON = [
    "agent", "Agent !", "AGENT", "un humain svp", "je veux parler à quelqu'un", "humain",
    "conseiller", "un conseiller stp", "operator", "operateur svp", "can I talk to a real person",
    "I need a human not a bot", "passez-moi quelqu'un du service client", "jveux parler a qqn",
    "speak to a representative please", "un vrai humain",
    "is there someone I can call?", "is there anyone I could phone?", "puis-je appeler quelqu'un ?",
    # with a possessive, an adverb, a typo in the noun, not-a-bot, a call back
    "je veux parler directement à ma conseillère", "I'd like to talk directly to my account manager",
    "connect me to a represenative", "put me through to an operatr please",
    "je ne veux pas parler à une machine", "I don't want to chat with a bot", "rappelez-moi au plus vite",
    "please call me back", "can somebody phone me this afternoon", "un technicien svp",
    "passez-moi le service facturation au téléphone",
]
ANGRY = [
    "this is ridiculous", "your bot is useless", "WHY IS NOTHING WORKING",
    "c'est n'importe quoi votre service", "j'en ai marre, ça fait une heure !!!",
    "putain ça marche pas", "THIS IS A JOKE",
    "vous êtes des incapables", "vous êtes nuls", "what a joke of a company",
    "vous êtes vraiment des amateurs",
    "you people are incompetent", "what a scam",
    # anger said in words, no swearing, no capitals
    "j'en ai ras le bol", "je suis furieuse", "I'm so angry right now", "worst service ever",
    "this is a rip off", "totally unacceptable", "I'm fed up with your app", "c'est inacceptable",
    "is this some kind of joke? I paid last week", "vous le faites exprès ou quoi", "rien ne fonctionne ici",
    "nothing ever works with you",
]
CHITCHAT = ["hello", "bonjour", "merci beaucoup", "thanks!", "hi there", "bonne journée", "ok",
            "cool thanks", "good morning", "bonsoir", "test", "???", "👍", "salut ça va ?",
            "hi, how are you?", "bonjour comment allez-vous"]
NOT_SIGNALS = ["how are you charging me twice?", "ça va être long ?", "vous êtes ouverts le dimanche ?",
               "you are charging me too much", "hello how are you, my card is blocked",
               "call me when my parcel arrives?", "what is the worst case for my excess?",
               "how do I speak to my bank about a loan?", "comment changer de conseiller bancaire ?",
               "can I transfer money to my advisor's account?",
               "le virement n'a pas été fait ce mois-ci, que se passe-t-il ?",
               "my payment has not gone through, what now?"]
@pytest.mark.parametrize("text", PERSON + ANGRY)
async def test_a_person_request_or_anger_is_handed_off(text: str) -> None:
    decision = await decide(text, AnswersEverything(), CONFIG)
    assert decision.action is Action.HANDOFF, (text, decision.reason)


@pytest.mark.parametrize("text", CHITCHAT)
async def test_chitchat_never_gets_an_article(text: str) -> None:
    decision = await decide(text, AnswersEverything(), CONFIG)
    assert decision.action is not Action.ANSWER, (text, decision.reason)


@pytest.mark.parametrize("text", NOT_SIGNALS)
async def test_a_question_that_only_looks_like_one_is_searched(text: str) -> None:
    decision = await decide(text, AnswersEverything(), CONFIG)
    assert decision.action is Action.ANSWER, (text, decision.reason)
