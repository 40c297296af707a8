"""Agent assist: the knowledge-base articles that best answer a handed-off
conversation, for the operator to insert into a reply.

The customer's recent real questions are searched one by one and together; an
article's confidence is the best over those searches: the calibrated confidence
when it ranks first, scaled by its score relative to the first hit otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.flow.intents import Intent, classify
from gateway.flow.signals import declines_options, frustration, not_helped
from gateway.protocols import Retriever
from gateway.views import MessageView

MAX_QUESTIONS = 3
SNIPPET_CHARS = 180


@dataclass(frozen=True, slots=True)
class Suggestion:
    article_id: str
    title: str
    snippet: str
    answer: str
    confidence: float
    lang: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "snippet": self.snippet,
            "answer": self.answer,
            "confidence": round(self.confidence, 3),
            "lang": self.lang,
        }


def customer_questions(messages: Sequence[MessageView], limit: int = MAX_QUESTIONS) -> list[str]:
    """The customer's last ``limit`` real questions (no greetings, "talk to a
    person", complaints or option picks), oldest first, without repeats."""
    found: list[str] = []
    for message in reversed(messages):
        if message.direction != "in" or message.kind.value != "message":
            continue
        text = " ".join(message.text.split())
        if not text or text in found or message.meta.get("quick_reply"):
            continue
        if classify(text) is not Intent.NONE or frustration(text) or not_helped(text):
            continue
        if declines_options(text):
            continue
        found.append(text)
        if len(found) >= limit:
            break
    return list(reversed(found))


def snippet(body: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of an article as plain text: Markdown marks removed, one line."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", body)
    text = re.sub(r"[*_`#>]+", "", text)
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


async def suggest(retriever: Retriever, questions: Sequence[str], k: int = 3) -> list[Suggestion]:
    """The ``k`` best articles for these questions, best first."""
    queries = [q for q in questions if q.strip()]
    if len(queries) > 1:
        queries.append(" ".join(queries))
    best: dict[str, tuple[float, float, Suggestion]] = {}
    for query in queries:
        result = await retriever.search(query, k=k + 2)
        if not result.hits:
            continue
        top_score = result.hits[0].score
        for rank, hit in enumerate(result.hits):
            if rank == 0 or top_score <= 0:
                confidence = result.confidence if rank == 0 else 0.0
            else:
                confidence = result.confidence * max(0.0, min(1.0, hit.score / top_score))
            key = (confidence, hit.score)
            if hit.article_id not in best or key > best[hit.article_id][:2]:
                item = Suggestion(hit.article_id, hit.title, snippet(hit.answer), hit.answer.strip(),
                                  confidence, hit.lang)
                best[hit.article_id] = (confidence, hit.score, item)
    ranked = sorted(best.values(), key=lambda v: (-v[0], -v[1], v[2].article_id))
    return [item for _, _, item in ranked[:k]]
