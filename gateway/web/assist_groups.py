"""Agent assist's suggestions with one article's translations as one suggestion.

A bilingual knowledge base answers a question about one topic with its French and its
English article, and ranked apart they took two of the operator's few suggestions.
Grouped (:func:`gateway.flow.translations.group_translations`), a topic is one
suggestion: its article in the language the customer wrote in first (the one
``Insert`` puts in the reply), the others listed under ``translations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.flow.translations import group_translations
from gateway.kb.assist import Suggestion
from gateway.protocols import Hit


def _as_hit(item: Suggestion) -> Hit:
    # a suggestion's confidence keeps the ratio of its search scores (gateway.kb.assist)
    return Hit(item.article_id, item.title, item.answer, item.confidence, item.lang)


def grouped(items: Sequence[Suggestion], lang: str, k: int) -> list[dict[str, Any]]:
    """The ``k`` best topics as suggestion dicts, each with its ``translations``."""
    by_id = {item.article_id: item for item in items}
    out: list[dict[str, Any]] = []
    for group in group_translations([_as_hit(item) for item in items], lang)[:k]:
        first, *others = (by_id[hit.article_id] for hit in group)
        shown = first.to_dict()
        shown["confidence"] = round(max(by_id[h.article_id].confidence for h in group), 3)
        shown["translations"] = [
            {"article_id": o.article_id, "title": o.title, "lang": o.lang, "snippet": o.snippet,
             "answer": o.answer}
            for o in others
        ]
        out.append(shown)
    return out
