"""Conversational intents the bot recognises before searching the knowledge base:
an explicit request for a person, a greeting, thanks, "yes it's solved".

Patterns work on :func:`gateway.language.fold` text (lower case, no accents,
punctuation as spaces), in French and English.
"""

from __future__ import annotations

import enum
import re

from gateway.language import fold


class Intent(enum.StrEnum):
    NONE = "none"
    EMPTY = "empty"
    HUMAN = "human"  # wants a person
    GREETING = "greeting"
    THANKS = "thanks"
    SOLVED = "solved"


_PERSON_EN = r"(a |an |the |some |real |actual |live )*(person|human|agent|operator|someone|somebody|representative|rep|staff|support team|advisor|adviser)"
_PERSON_FR = r"(a |au |a un |a une |avec un |avec une |un |une |le |la |l |quelqu un|vrai |vraie |personne )*(humain|humaine|personne|conseiller|conseillere|agent|operateur|operatrice|quelqu un|support|service client)"

_HUMAN = [
    re.compile(rf"\b(talk|speak|chat|connect me|put me through|transfer me)( with| to)? {_PERSON_EN}\b"),
    re.compile(rf"\b(i want|i need|i d like|let me talk to|can i have|give me|get me) {_PERSON_EN}\b"),
    re.compile(
        r"^(human|agent|operator|person|representative|real person|live agent|human please|agent please)( please)?$"
    ),
    re.compile(
        rf"\b(parler|discuter|echanger|etre mis en relation|mettre en relation|joindre|contacter)( avec| a)? {_PERSON_FR}\b"
    ),
    re.compile(rf"\b(je veux|je voudrais|j aimerais|je souhaite|passez moi|donnez moi) {_PERSON_FR}\b"),
    re.compile(
        r"^(humain|un humain|conseiller|un conseiller|agent|operateur|une personne)( s il vous plait| svp| stp)?$"
    ),
    re.compile(rf"\ben relation avec {_PERSON_FR}\b"),
    re.compile(r"\b(no|non) (talk|speak|parler)\b"),
]

_GREETING = re.compile(
    r"^((hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|greetings|bonjour|bonsoir|salut|"
    r"coucou|allo|hola)( there| everyone| all| a tous| tout le monde)?\s*)+$"
)
_THANKS = re.compile(
    r"^((ok|okay|great|super|parfait|top|cool|perfect|d accord|ah)?\s*"
    r"(thanks|thank you|thx|ty|cheers|merci|merci beaucoup|mille mercis|thanks a lot|many thanks)"
    r"( a lot| so much| very much| beaucoup| bien| pour tout| for your help| pour votre aide)?"
    r"\s*(bye|au revoir|bonne journee|have a nice day)?\s*)+$"
)
_SOLVED = re.compile(
    r"^((yes|yep|yeah|oui|ok|parfait|great)\s*)*(solved|resolved|it works|that worked|that helped|"
    r"c est resolu|resolu|ca marche|ca fonctionne|ca m a aide|probleme resolu)(\s*(thanks|merci))?$"
)


def classify(text: str, quick_reply: str | None = None) -> Intent:
    """The conversational intent of one customer message (NONE: a real question)."""
    if quick_reply == "handoff":
        return Intent.HUMAN
    if quick_reply == "solved":
        return Intent.SOLVED
    folded = fold(text)
    if not folded:
        return Intent.EMPTY
    if any(p.search(folded) for p in _HUMAN):
        return Intent.HUMAN
    if _SOLVED.match(folded):
        return Intent.SOLVED
    if _GREETING.match(folded):
        return Intent.GREETING
    if _THANKS.match(folded):
        return Intent.THANKS
    return Intent.NONE
