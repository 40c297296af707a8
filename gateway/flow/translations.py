"""Articles in the customer's language, and translations of one article.

A bilingual knowledge base often holds one help page twice, in French and in
English, with nothing that links the two (no shared id or front-matter field).  When
the index knows the pairs (:mod:`kb_index.twins`, work in progress) it ranks a pair
once, in the question's language; until then, and for indexes that found no pair, the
gateway recognises a translation *within one search result*:

- the two articles are in different (known) languages;
- they are near-tied for the question (the lower score at least
  :data:`TIE` of the higher): a question about a topic finds both translations about
  equally well, an unrelated article rarely;
- they share at least :data:`MIN_ANCHORS` language-independent *anchors*: numbers
  ("60 minutes", "12 characters") and words spelt the same in both languages (product
  and provider names, paths, codes), which a translation keeps and an unrelated article
  of the same product mostly does not.

This is a heuristic, said as such: an admin who sees two translations listed apart
can make their numbers and names agree; nothing here guesses from titles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.language import fold
from gateway.protocols import Hit
from kb_index.lexical import STOPWORDS

TIE = 0.9  # the lower score of a translated pair, as a share of the higher
# Anchors two translations share at least.  On the sample KB (examples/kb) its three
# translated pairs share 9 or 10; any two other articles of different languages at
# most 4 (the product's name, a cognate like "business", a number).
MIN_ANCHORS = 5
_MIN_WORD = 4  # letters of a word anchor (shorter ones are shared by chance)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_./-]*[a-z0-9]|[a-z0-9]")


def anchors(hit: Hit) -> frozenset[str]:
    """Tokens of an article that a translation keeps: numbers and long non-stop words
    (the intersection with another language's article keeps only those spelt alike)."""
    tokens = _TOKEN.findall(fold(f"{hit.title} {hit.answer}"))
    return frozenset(
        t for t in tokens
        if any(c.isdigit() for c in t) or (len(t) >= _MIN_WORD and t not in STOPWORDS)
    )


def are_translations(a: Hit, b: Hit) -> bool:
    """``a`` and ``b`` look like one article in two languages (see the module text)."""
    if not a.lang or not b.lang or a.lang == b.lang or a.article_id == b.article_id:
        return False
    high, low = max(a.score, b.score), min(a.score, b.score)
    if high <= 0 or low < high * TIE:
        return False
    return len(anchors(a) & anchors(b)) >= MIN_ANCHORS


def translation_in(hit: Hit, hits: Sequence[Hit], lang: str) -> Hit | None:
    """The translation of ``hit`` in ``lang`` among ``hits`` (one search's), if any."""
    if not lang or hit.lang == lang:
        return None
    return next((h for h in hits if h.lang == lang and are_translations(hit, h)), None)


def group_translations(hits: Sequence[Hit], lang: str) -> list[tuple[Hit, ...]]:
    """``hits`` (best first) with translations of one article grouped: each group
    once, at its best rank, the article in ``lang`` first when the group has one."""
    groups: list[list[Hit]] = []
    for hit in hits:
        for group in groups:
            if all(h.lang != hit.lang for h in group) and are_translations(group[0], hit):
                group.append(hit)
                break
        else:
            groups.append([hit])
    return [tuple(sorted(g, key=lambda h: h.lang != lang)) for g in groups]
