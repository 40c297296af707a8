"""Questions a knowledge base asks itself: the self-supervised queries of the
index-time calibration (:mod:`kb_index.self_calibration`).

From each article, with no labelled case:

- its **question variants** (FAQ rows), each one a query for its own article;
- **sentences** of its body, cut to a question's length (the first
  :data:`SENTENCE_WORDS` words), a few per article, spread over the body.

Each query is *held out*: it may not match the chunk it was taken from (its own
variant; the passage holding its sentence), so it is scored like a customer's
question whose exact wording is not in the KB.  (Scoring a sentence against its
passage re-encoded without it was tried: it found the right article about as
rarely, 43 % against 38 % on the sample, and doubles the encoding.)  Titles are not queries: every
passage starts with its article's title, so a title would always find itself.

Negatives come from the same queries with their whole article left out (an
in-domain question the KB does not answer: whatever is found is wrong) and from
generic off-topic questions in French and English shipped with the code
(``offtopic_fr_en.txt``, :func:`offtopic_questions`).

Everything is deterministic: the same KB gives the same queries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from kb_index.chunking import Chunk, plain_text
from kb_index.sources import Article

QUESTIONS_PER_ARTICLE = 4  # question variants taken as queries, per article
SENTENCES_PER_ARTICLE = 3  # body sentences taken as queries, per article
SENTENCE_WORDS = 16  # a sentence is cut to this many words (a question's length)
MIN_SENTENCE_WORDS = 5
OFFTOPIC_FILE = "offtopic_fr_en.txt"
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


@dataclass(frozen=True, slots=True)
class PseudoQuery:
    text: str
    article_id: str
    kind: str  # "question" | "sentence"
    held_out: tuple[int, ...]  # chunk rows the query may not match (where it came from)
    row: int | None = None  # a chunk row holding this very text (its vector can be reused)


def _order(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def _spread(items: Sequence[str], n: int) -> list[str]:
    """``n`` items spread evenly over ``items`` (all of them when there are fewer)."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def sentences(body: str) -> list[str]:
    """The body's sentences of at least :data:`MIN_SENTENCE_WORDS` words, spaces
    normalised (cut to a question's length by :func:`pseudo_queries`)."""
    found = []
    for raw in _SENTENCE.split(plain_text(body)):
        words = raw.split()
        if len(words) >= MIN_SENTENCE_WORDS:
            found.append(" ".join(words))
    return found


def pseudo_queries(
    articles: Sequence[Article],
    chunks: Sequence[Chunk],
    *,
    questions_per_article: int = QUESTIONS_PER_ARTICLE,
    sentences_per_article: int = SENTENCES_PER_ARTICLE,
) -> list[PseudoQuery]:
    """The self-supervised queries of a KB; ``chunks`` are the index's rows, in order."""
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows.setdefault(chunk.article_id, []).append(row)
    queries: list[PseudoQuery] = []
    for article in articles:
        own = rows.get(article.id, [])
        variants = [r for r in own if chunks[r].kind == "question"]
        if len(own) - 1 > 0:  # the article must keep something to be found by
            picked = sorted(variants, key=lambda r: _order(chunks[r].text))[:questions_per_article]
            queries.extend(PseudoQuery(chunks[r].text, article.id, "question", (r,), r)
                           for r in sorted(picked))
        passages = [r for r in own if chunks[r].kind == "passage"]
        for sentence in _spread(sentences(article.body), sentences_per_article):
            held = tuple(r for r in passages if sentence in " ".join(chunks[r].text.split()))
            if held and len(held) < len(own):
                query = " ".join(sentence.split()[:SENTENCE_WORDS])
                queries.append(PseudoQuery(query, article.id, "sentence", held))
    return queries


@lru_cache(maxsize=1)
def offtopic_questions() -> tuple[str, ...]:
    """The shipped off-topic questions (French and English), in file order."""
    text = resources.files("kb_index").joinpath(OFFTOPIC_FILE).read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


OFFTOPIC_SAMPLE = 40  # off-topic questions that set a KB's off-topic level (every n-th of the file)


def offtopic_sample(n: int = OFFTOPIC_SAMPLE) -> tuple[str, ...]:
    """Every n-th shipped off-topic question, ``n`` of them: the sample whose best scores
    set a KB's off-topic level (:func:`kb_index.self_calibration.offtopic_level`)."""
    questions = offtopic_questions()
    step = max(1, len(questions) // max(1, n))
    return questions[::step][:n]
