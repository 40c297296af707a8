"""Messages too thin to be answered on lexical evidence: no words ("???", emoji),
one character, "test", or a single word said once or repeated ("payroll",
"agent agent AGENT" once the intents have had their say).

The retriever's confidence leans on word overlap: a one-word message that occurs
in an article scores as if it were a precise question ("test" got 0.81).  The
policy asks for a question on the first three kinds, and answers a single word
only when it names the top article's topic (a word of its title).
"""

from __future__ import annotations

import re

from gateway.flow.intents import normalise
from gateway.flow.signals import content_words

_TEST = re.compile(
    r"^(test|tests|testing|essai|essais|tester|ceci est un test|this is a test|just testing)( \d+)?$"
)


def degenerate(text: str) -> str:
    """Why ``text`` cannot be answered as it stands ("no_words", "one_char",
    "test", "one_word"), or "" for a real question."""
    norm = normalise(text)
    letters = re.sub(r"[^a-z]", "", norm)
    if not letters:
        return "no_words"
    if len(letters) == 1:
        return "one_char"
    if _TEST.match(norm):
        return "test"
    words = {w for w in norm.split() if len(w) > 1}
    if len(words) <= 1 or (len(content_words(norm)) <= 1 and len(words) <= 2):
        return "one_word"
    return ""


def _stem(word: str) -> str:
    return word[:6]


def names_topic(text: str, title: str) -> bool:
    """A content word of ``text`` is a word of ``title`` (same first six letters:
    "remboursement" names "Quand serai-je remboursé ?")."""
    words = {_stem(w) for w in content_words(text) if len(w) >= 4}
    return bool(words & {_stem(w) for w in content_words(title) if len(w) >= 4})
