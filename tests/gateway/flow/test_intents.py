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
