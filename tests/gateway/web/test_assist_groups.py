"""Agent assist lists one article's translations as one suggestion, in the language the
customer wrote in, with the other languages available to insert (issue 10)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from gateway.kb.assist import Suggestion
from gateway.views import UserView
from gateway.web.assist_groups import grouped
from gateway.web.keys import RETRIEVER
from tests.gateway.conftest import Core
from tests.gateway.flow.test_answer_quality import EXPORT_EN, RESET_EN, RESET_FR, VAT_FR, Canned
from tests.gateway.web.test_console_with_store import console_app, login


def suggestion(article_id: str, lang: str, confidence: float, answer: str = "") -> Suggestion:
    return Suggestion(article_id, article_id.title(), answer[:20], answer, confidence, lang)


def test_translations_are_one_suggestion_in_the_customers_language() -> None:
    items = [
        suggestion("password-reset", "en", 0.9, RESET_EN.answer),
        suggestion("mot-de-passe-oublie", "fr", 0.88, RESET_FR.answer),
        suggestion("data-export", "en", 0.5, EXPORT_EN.answer),
        suggestion("tva", "fr", 0.45, VAT_FR.answer),
    ]
    french = grouped(items, "fr", 3)
    assert [s["article_id"] for s in french] == ["mot-de-passe-oublie", "data-export", "tva"]
    assert french[0]["confidence"] == 0.9  # the topic's best
    assert [(t["article_id"], t["lang"]) for t in french[0]["translations"]] == [("password-reset", "en")]
    assert french[0]["translations"][0]["answer"] == RESET_EN.answer
    assert french[1]["translations"] == []
    english = grouped(items, "en", 2)
    assert [s["article_id"] for s in english] == ["password-reset", "data-export"]
    assert english[0]["translations"][0]["article_id"] == "mot-de-passe-oublie"


async def test_suggestions_api_groups_translations(
    core: Core, operator: UserView, aiohttp_client: Any
) -> None:
    app: web.Application = console_app(core)
    ranked = (RESET_EN, RESET_FR, replace(EXPORT_EN, score=0.6), replace(VAT_FR, score=0.55))
    app[RETRIEVER] = Canned({"mot de passe": (ranked, 0.9)})
    client = await aiohttp_client(app)
    await login(client, "olga")
    r = await core.channel.receive("J'ai oublié mon mot de passe, que faire ?", user="bob")
    await core.drain()
    await core.channel.receive("Je veux parler à un conseiller", user="bob")
    await core.drain()
    data = await (await client.get(f"/api/conversations/{r.conversation_id}/suggestions?k=3")).json()
    assert data["lang"] == "fr"
    shown = [(s["article_id"], [t["article_id"] for t in s["translations"]]) for s in data["suggestions"]]
    assert shown == [("mot-de-passe-oublie", ["password-reset"]), ("data-export", []), ("tva", [])]
