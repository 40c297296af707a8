"""Tiny French/English detector and text normalisation.

:func:`fold` is what every comparison of words works on (BM25 tokens, the hash
embedder, the bot's intent phrases); :func:`detect` picks the language of a text
(an article that declares none, a question for language centring, the bot's reply).
"""

from __future__ import annotations

import functools
import re
import unicodedata

SUPPORTED = ("en", "fr")

_FR = frozenset(
    [
        "je",
        "j",
        "tu",
        "il",
        "elle",
        "nous",
        "vous",
        "ils",
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "d",
        "est",
        "et",
        "ou",
        "mon",
        "ma",
        "mes",
        "votre",
        "vos",
        "ne",
        "pas",
        "plus",
        "pour",
        "avec",
        "sur",
        "dans",
        "que",
        "qui",
        "quoi",
        "comment",
        "pourquoi",
        "quand",
        "c",
        "ce",
        "cette",
        "bonjour",
        "merci",
        "oui",
        "non",
        "puis",
        "peux",
        "peut",
        "faire",
        "mot",
        "passe",
        "compte",
        "commande",
        "livraison",
        "facture",
        "remboursement",
        "aide",
    ]
)
_EN = frozenset(
    [
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "the",
        "a",
        "an",
        "of",
        "to",
        "is",
        "are",
        "and",
        "or",
        "my",
        "your",
        "not",
        "no",
        "yes",
        "for",
        "with",
        "on",
        "in",
        "that",
        "what",
        "who",
        "how",
        "why",
        "when",
        "this",
        "can",
        "could",
        "do",
        "does",
        "hello",
        "thanks",
        "please",
        "password",
        "account",
        "order",
        "delivery",
        "invoice",
        "refund",
        "help",
    ]
)
_WORD = re.compile(r"[a-z]+")


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes and punctuation to spaces.

    Cached: one message is folded by every signal that reads it (language,
    intents, frustration, topic words), some five times on its way."""
    lowered = text.lower()
    if not lowered.isascii():
        nfkd = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in nfkd if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", lowered).strip()


def detect(text: str, hint: str | None = None, default: str = "en") -> str:
    """Return "fr" or "en".  A supported hint wins when the text is inconclusive."""
    words = _WORD.findall(fold(text))
    fr = sum(w in _FR for w in words)
    en = sum(w in _EN for w in words)
    if any(c in text.lower() for c in "éèêàçùôîœ"):
        fr += 1
    hint_lang = (hint or "").split("-")[0].lower()
    if fr == en:
        return hint_lang if hint_lang in SUPPORTED else default
    return "fr" if fr > en else "en"
