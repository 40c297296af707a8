"""Split articles into the texts that are embedded and searched.

Each article yields its title, its question variants and its body cut into
passages along paragraph boundaries (a paragraph that is too long is cut between
sentences, a sentence that is too long between words).  Every passage starts with
the article title, so a passage about "the link expires after an hour" still knows
it belongs to "Reset your password".

Passage size: 40-60 words, not the 100-200 first planned.  all-MiniLM-L6-v2 was
trained on 128-token inputs and truncates at 256; French costs about 2 tokens a
word, so a 200-word French passage lost its second half, and a long passage
dilutes the one sentence a question is about.  On the dev cases
(examples/cases.jsonl) top-1 went from 49/65 (150-200 words) to 55/65 (40-60).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb_index.sources import Article

TARGET_WORDS = 40  # stop growing a passage once it reaches this
MAX_WORDS = 60  # never exceed this
MIN_TAIL_WORDS = 20  # a shorter last passage is merged into the previous one (if it fits)

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_BLOCK = re.compile(r"^[ \t]*(?:#{1,6}|[-*+>]|\d+[.)])[ \t]+", re.M)
_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}[ :|\t-]*$", re.M)
_INLINE = re.compile(r"\*{1,3}|`+|~~")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One searchable text, mapped back to its article."""

    article_id: str
    kind: str  # "title" | "question" | "passage"
    text: str


def plain_text(markdown: str) -> str:
    """Markdown to plain text, good enough for embedding (links keep their label)."""
    text = _LINK.sub(r"\1", markdown)
    text = _INLINE.sub("", _BLOCK.sub("", _RULE.sub("", text))).replace("|", " ")
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _words(text: str) -> int:
    return len(text.split())


def _pieces(paragraph: str, max_words: int) -> list[str]:
    """A paragraph as pieces of at most ``max_words`` words."""
    if _words(paragraph) <= max_words:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _SENTENCE.split(paragraph):
        words = sentence.split()
        pieces.extend(" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words))
    return pieces


def split_passages(
    body: str,
    *,
    target_words: int = TARGET_WORDS,
    max_words: int = MAX_WORDS,
    min_tail_words: int = MIN_TAIL_WORDS,
) -> list[str]:
    """Cut a body into passages, keeping paragraphs together where they fit."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", plain_text(body))]
    pieces = [piece for p in paragraphs if p for piece in _pieces(p, max_words)]
    passages: list[str] = []
    current: list[str] = []
    count = 0
    for piece in pieces:
        n = _words(piece)
        if current and (count >= target_words or count + n > max_words):
            passages.append(" ".join(current))
            current, count = [], 0
        current.append(piece)
        count += n
    if current:
        tail = " ".join(current)
        if passages and count < min_tail_words and _words(passages[-1]) + count <= max_words:
            passages[-1] = f"{passages[-1]} {tail}"
        else:
            passages.append(tail)
    return passages


def chunk_article(article: Article) -> list[Chunk]:
    """Title, question variants and titled passages of one article (no duplicates)."""
    chunks: list[Chunk] = []
    seen: set[str] = set()

    def add(kind: str, text: str) -> None:
        key = " ".join(text.lower().split())
        if key and key not in seen:
            seen.add(key)
            chunks.append(Chunk(article.id, kind, text))

    add("title", article.title)
    for question in article.questions:
        add("question", question)
    for passage in split_passages(article.body):
        add("passage", f"{article.title}\n{passage}")
    return chunks


def chunk_articles(articles: list[Article] | tuple[Article, ...]) -> list[Chunk]:
    return [chunk for article in articles for chunk in chunk_article(article)]
