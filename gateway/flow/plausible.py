"""Is an article a plausible answer to a message?  Asked before the bot offers two
articles in a clarifying question: a question that is out of the knowledge base's
scope ("how do I run payroll", "can I pay in Bitcoin") still has two nearest
articles, and offering them ("Invoices or Plans and pricing?") tells the customer we
did not understand while pretending we did.  It is handed off instead.

An article is plausible for a message when either

- it shares a content word with the message (folded, stop words out, lightly
  stemmed: :func:`kb_index.lexical.tokenize`, the retriever's own words), or
- its score is well above the knowledge base's own *off-topic level*: the best
  article's score for questions about nothing a help desk answers (the shipped FR/EN
  off-topic questions of :mod:`kb_index.pseudo_queries`).  "Well above" is beyond the
  highest of them by as much again as that highest is above the typical (median) one:
  an out-of-scope question near the KB's domain ("payroll" on a billing KB) scores a
  little above generic off-topic ones, a vague question on the KB's topics clearly.
  This second path is what lets a French question be plausible for an English article
  with no word in common.  It is on the KB's own scale, whatever the embedder.

The level of a self-calibrated index version is measured when it is built, from the
scores its calibration computes anyway (``SearchResult.extras["offtopic_level"]``,
:func:`kb_index.self_calibration.offtopic_level`).  For a retriever that does not say
it, the level is measured once per retriever and index version, on the same sample of
:data:`SAMPLE` off-topic questions searched as a customer's question would be.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from statistics import median

from gateway.protocols import Hit, Retriever
from kb_index.lexical import tokenize
from kb_index.pseudo_queries import OFFTOPIC_SAMPLE, offtopic_sample

SAMPLE = OFFTOPIC_SAMPLE  # off-topic questions searched to find the level (every n-th of the file)
_MIN_STEM = 4  # words this long or longer also match on their first letters (plural, -ing)

_levels: weakref.WeakKeyDictionary[object, dict[str, asyncio.Future[float]]] = weakref.WeakKeyDictionary()


def shares_words(message: str, hit: Hit) -> bool:
    """The message and the article have a content word in common."""
    asked = {w for w in tokenize(message) if len(w) >= 3}
    if not asked:
        return False
    said = set(tokenize(" ".join((hit.title, " ".join(hit.tags), hit.matched, hit.answer))))
    if asked & said:
        return True
    stems = {w[:_MIN_STEM + 1] for w in said if len(w) >= _MIN_STEM + 1}
    return any(len(w) >= _MIN_STEM + 1 and w[:_MIN_STEM + 1] in stems for w in asked)


def sample_questions(n: int = SAMPLE) -> tuple[str, ...]:
    return offtopic_sample(n)


async def offtopic_level(retriever: Retriever, index_version: str) -> float:
    """The score above which an article is plausible on this index version: the
    highest off-topic score plus its distance from the median one (0.0 when off-topic
    questions find nothing)."""
    try:
        per_version = _levels.setdefault(retriever, {})
    except TypeError:  # a retriever that cannot be weakly referenced: not cached
        per_version = {}
    future = per_version.get(index_version)
    if future is None:
        future = asyncio.get_running_loop().create_future()
        per_version.clear()  # an older version's level is not used again
        per_version[index_version] = future
        try:
            future.set_result(await _measure(retriever))
        except BaseException as exc:
            per_version.pop(index_version, None)
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning
            raise
    return await asyncio.shield(future)


async def _measure(retriever: Retriever) -> float:
    tops: list[float] = []
    for question in sample_questions():
        result = await retriever.search(question, k=1)
        tops.append(result.hits[0].score if result.hits else 0.0)
    return well_above(tops)


def well_above(tops: Sequence[float]) -> float:
    if not tops:
        return 0.0
    highest = max(tops)
    return highest + (highest - median(tops))


async def plausible(
    message: str, hit: Hit, retriever: Retriever, index_version: str, level: float | None = None
) -> bool:
    """``hit`` is a plausible answer to ``message`` (see the module text); ``level``: the
    version's off-topic level when the search result carried it (else measured)."""
    if shares_words(message, hit):
        return True
    if level is None:
        level = await offtopic_level(retriever, index_version)
    return hit.score >= level
