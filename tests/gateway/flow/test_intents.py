"""Requests for a person, greetings, thanks, in French and English."""

from __future__ import annotations

import pytest

from gateway.flow.intents import Intent, classify
from gateway.language import detect


@pytest.mark.parametrize(
    "text",
    [
        "No, talk to a person",
        "Can I speak to someone?",
        "I want a human",
        "agent please",
        "put me through to a real person",
        "Je voudrais parler à un conseiller",
        "Non, parler à un conseiller",
        "je veux un humain",
        "Est-ce que je peux parler à quelqu'un ?",
        "mettez-moi en relation avec un agent",
        "un conseiller svp",
    ],
)
def test_requests_for_a_person(text: str) -> None:
    assert classify(text) is Intent.HUMAN


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Bonjour !", Intent.GREETING),
        ("hello there", Intent.GREETING),
        ("merci beaucoup", Intent.THANKS),
        ("ok thanks!", Intent.THANKS),
        ("Yes, solved", Intent.SOLVED),
        ("Oui, c'est résolu", Intent.SOLVED),
        ("   ", Intent.EMPTY),
        ("?!", Intent.EMPTY),
    ],
)
def test_courtesy_intents(text: str, intent: Intent) -> None:
    assert classify(text) is intent


@pytest.mark.parametrize(
    "text",
    [
        "Hello, how do I reset my password?",
        "Bonjour, comment obtenir ma facture ?",
        "how do I add an agent to my team",
        "thanks to your update my invoices are wrong",
        "Where is my person-to-person transfer?",
    ],
)
def test_real_questions_are_not_courtesy(text: str) -> None:
    assert classify(text) is Intent.NONE


def test_quick_reply_ids_win_over_text() -> None:
    assert classify("whatever", "handoff") is Intent.HUMAN
    assert classify("whatever", "solved") is Intent.SOLVED


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [
        ("Comment réinitialiser mon mot de passe ?", None, "fr"),
        ("How do I reset my password?", None, "en"),
        ("ok", "fr-FR", "fr"),
        ("ok", None, "en"),
    ],
)
def test_language_detection(text: str, hint: str | None, lang: str) -> None:
    assert detect(text, hint) == lang


# Held-out phrasings: written apart from the patterns, with the typos, SMS
# spelling and single words customers type.
@pytest.mark.parametrize(
    "text",
    [
        "Agent",
        "AGENT!!",
        "agent agent agent",
        "agnet",
        "humain",
        "Humain ?",
        "un humain stp",
        "une vraie personne svp",
        "conseillère",
        "conseilller svp",
        "opérateur",
        "operater",
        "Operator.",
        "representative please",
        "real human plz",
        "someone pls",
        "quelqu'un ?",
        "qqn svp",
        "je veux parler a qqn",
        "jveux un conseiller",
        "pouvez vous me passer le SAV",
        "puis-je avoir un conseiller au téléphone",
        "I'd like to talk to customer service",
        "connect me with your support team",
        "can u get me a human",
        "HUMAN NOW",
    ],
)
def test_held_out_requests_for_a_person(text: str) -> None:
    assert classify(text) is Intent.HUMAN, text


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("merciii", Intent.THANKS),
        ("Merci bcp !!", Intent.THANKS),
        ("mrc", Intent.THANKS),
        ("thanx a lot", Intent.THANKS),
        ("ty", Intent.THANKS),
        ("ok super merci", Intent.THANKS),
        ("thank u so much", Intent.THANKS),
        ("ok", Intent.THANKS),
        ("d'acc merci, bonne journée", Intent.THANKS),
        ("bjr", Intent.GREETING),
        ("slt", Intent.GREETING),
        ("heyyy", Intent.GREETING),
        ("Bonsoir madame", Intent.GREETING),
        ("hello hello", Intent.GREETING),
        ("bonjour, il y a quelqu'un ?", Intent.GREETING),
        ("anyone there?", Intent.GREETING),
        ("est-ce que quelqu'un pourrait m'aider ?", Intent.GREETING),
        ("can anybody help", Intent.GREETING),
        ("ça m'aide pas", Intent.NOT_HELPED),
        ("ca maide pas du tout", Intent.NOT_HELPED),
        ("vous m'avez pas aidé", Intent.NOT_HELPED),
        ("pas utile", Intent.NOT_HELPED),
        ("not helpful", Intent.NOT_HELPED),
        ("this doesnt help", Intent.NOT_HELPED),
    ],
)
def test_held_out_courtesy_and_not_helped(text: str, intent: Intent) -> None:
    assert classify(text) is intent, text


@pytest.mark.parametrize(
    "text",
    [
        "how do I add an agent to my team",
        "Is there an agent fee on rentals?",
        "combien d'argent sur ma carte cadeau",
        "personne ne répond au téléphone depuis hier",
        "quelqu'un peut m'expliquer la taxe foncière ?",
        "human resources contact for payroll",
        "I need help with my order",
        "merci de m'envoyer la facture",
        "ok so how do I return the shoes",
        "the operator of the pickup point refused my parcel",
        "can someone help me with my invoice?",
        "note de frais",
    ],
)
def test_held_out_questions_stay_questions(text: str) -> None:
    assert classify(text) is Intent.NONE, text
