"""Agent assist in the console's API: ``GET /api/conversations/{id}/suggestions``
lists the knowledge-base articles that best answer the customer's recent
questions (title, snippet, confidence and the answer text to insert), one article's
translations grouped as one suggestion in the customer's language
(:mod:`gateway.web.assist_groups`)."""

from __future__ import annotations

from aiohttp import web

from gateway.kb.assist import customer_questions, suggest
from gateway.language import detect
from gateway.protocols import Retriever
from gateway.web.assist_groups import grouped
from gateway.web.helpers import BadRequest, api
from gateway.web.keys import OPERATORS, RETRIEVER
from gateway.web.request_fields import path_id
from gateway.web.security import json_response

MAX_SUGGESTIONS = 10


def retriever_of(app: web.Application) -> Retriever | None:
    return app.get(RETRIEVER)


@api
async def suggestions(request: web.Request) -> web.StreamResponse:
    raw = request.query.get("k", "3")
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_SUGGESTIONS:
        raise BadRequest("invalid_k", f"k must be a number from 1 to {MAX_SUGGESTIONS}.")
    operators = request.app[OPERATORS]
    conversation = await operators.get_conversation(path_id(request))
    retriever = retriever_of(request.app)
    messages = await operators.messages(conversation.id, include_internal=False)
    questions = customer_questions(messages)
    k = int(raw)
    # twice as many articles: a topic's translations then still leave k topics
    items = await suggest(retriever, questions, k=2 * k) if questions and retriever else []
    lang = detect(" ".join(questions), conversation.lang or None)
    return json_response({
        "questions": questions,
        "lang": lang,
        "suggestions": grouped(items, lang, k),
        "available": retriever is not None,  # False: this server has no knowledge base
    })


def setup(app: web.Application) -> None:
    app.router.add_get(r"/api/conversations/{id:\d+}/suggestions", suggestions, name="api_suggestions")
