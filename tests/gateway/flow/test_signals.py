"""Frustration, "that did not help", declining options and rephrasing, in French
and English; and the context the router rebuilds from stored messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.flow.signals import (
    context_from_messages,
    declines_options,
    frustration,
    is_rephrase,
    not_helped,
    overlap,
)


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("this is useless", "useless"),
        ("You are useless, bot", "useless"),
        ("c'est nul", "useless"),
        ("Vous êtes vraiment nuls, trois jours sans réponse", "useless"),
        ("franchement, une équipe complètement nulle", "useless"),
        ("Ce bot ne sert à rien", "useless"),
        ("ça ne marche pas", "doesnt_work"),
        ("it still doesn't work", "doesnt_work"),
        ("ça ne fonctionne toujours pas", "doesnt_work"),
        ("WHY IS MY ORDER NOT HERE", "shouting"),
        ("where is my order?!!", "punctuation"),
        ("ENCORE ??? ", "punctuation"),
        ("I already told you my order number", "already_told"),
        ("je vous l'ai déjà dit", "already_told"),
        ("what the fuck", "swearing"),
        ("putain de site", "swearing"),
        ("merde, toujours bloqué", "swearing"),
    ],
)
def test_frustration_is_recognised(text: str, marker: str) -> None:
    assert frustration(text) == marker


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "My password reset link doesn't work, what should I do?",
        "Mon lien de réinitialisation ne marche pas, que faire ?",
        "Where is my order??",
        "VPN SSO",
        "Merci !",
        "I use the API with a JSON body",
    ],
)
def test_ordinary_questions_are_not_frustration(text: str) -> None:
    assert frustration(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "no it didn't help",
        "That did not answer my question",
        "not what I asked",
        "ça ne répond pas à ma question",
        "ça ne m'a pas aidé",
        "ce n'est pas ma question",
        "mauvaise réponse",
    ],
)
def test_not_helped(text: str) -> None:
    assert not_helped(text)


def test_a_bare_no_means_not_helped_only_right_after_an_answer() -> None:
    assert not_helped("Non", after_answer=True) and not_helped("nope", after_answer=True)
    assert not not_helped("Non")
    assert not not_helped("It helped, thanks", after_answer=True)


@pytest.mark.parametrize("text", ["None of these", "neither", "aucun des deux", "Ni l'un ni l'autre"])
def test_declining_the_offered_options(text: str) -> None:
    assert declines_options(text)


def test_rephrasing_is_measured_on_content_words() -> None:
    assert overlap("How do I reset my password?", "how can I reset the passwords") == 1.0
    assert is_rephrase("Comment changer mon mot de passe ?", ["changer le mot de passe"])
    assert not is_rephrase("Where is my parcel?", ["How do I reset my password?"])


@dataclass
class Row:
    id: int
    direction: str
    author_kind: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    kind: str = "message"


def test_context_remembers_answers_and_a_pending_clarification() -> None:
    rows = [
        Row(1, "in", "customer", "reset password", {"action": "answer", "question": "reset password"}),
        Row(2, "out", "bot", "Here is…", {"article_id": "password-reset"}),
        Row(3, "in", "customer", "billing", {"action": "clarify"}),
        Row(4, "out", "bot", "Which one?", {"clarification": {
            "question": "billing", "options": [{"id": "invoices", "title": "Invoices"},
                                               {"id": "refunds", "title": "Refunds"}]}}),
        Row(5, "in", "customer", "Invoices"),
    ]
    ctx = context_from_messages(rows, before_id=5)
    assert ctx.answered_questions == ("reset password",)
    assert ctx.last_answer_article == "password-reset"
    assert ctx.clarification_question == "billing"
    assert [o.article_id for o in ctx.clarification_options] == ["invoices", "refunds"]


def test_context_starts_afresh_after_an_operator() -> None:
    rows = [
        Row(1, "in", "customer", "reset password", {"action": "answer"}),
        Row(2, "out", "bot", "Here is…", {"article_id": "password-reset"}),
        Row(3, "out", "system", "Olga handed back ticket G-1001.", kind="event"),
        Row(4, "in", "customer", "reset password"),
    ]
    ctx = context_from_messages(rows, before_id=4)
    assert ctx.answered_questions == () and ctx.last_answer_article is None
    assert not ctx.clarification_pending
