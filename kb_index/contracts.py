"""The search contracts: what a knowledge-base search returns, and the port that
returns it.

:class:`kb_index.retriever.KBRetriever` implements :class:`Retriever`; the gateway
uses these types through ``gateway.protocols`` (the bot policy, agent assist) and its
tests have in-memory retrievers of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Hit:
    """One knowledge-base article found for a query."""

    article_id: str
    title: str
    answer: str  # the article body (Markdown / plain text)
    score: float  # the retriever's raw fused score, comparable within one query
    lang: str = ""
    tags: tuple[str, ...] = ()
    matched: str = ""  # the chunk or question variant that matched best


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[Hit, ...]
    confidence: float  # calibrated, 0..1: probability the top hit answers the query
    index_version: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@runtime_checkable
class Retriever(Protocol):
    """Searches the knowledge base.  Implementations run blocking work (model
    encode, FAISS search) off the event loop and swap index versions atomically."""

    async def search(self, text: str, k: int = 5) -> SearchResult: ...
