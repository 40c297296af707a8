"""The bot's own sentences, in French and English."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.language import detect
from gateway.models import QuickReply

FRUSTRATION = "frustration"  # a handoff's reason that gets the apologetic text

_TEXT: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hello! Ask me your question and I'll look for the answer, "
        'or say "talk to a person" at any time.',
        "fr": "Bonjour ! Posez-moi votre question, je cherche la réponse. "
        "Vous pouvez aussi écrire « parler à un conseiller » à tout moment.",
    },
    "thanks": {
        "en": "You're welcome! Anything else I can help with?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
    },
    "empty": {
        "en": "I didn't get a question there. What can I help you with?",
        "fr": "Je n'ai pas reçu de question. Que puis-je faire pour vous ?",
    },
    "solved": {
        "en": "Great, glad that helped! Write again any time.",
        "fr": "Parfait, ravi d'avoir pu aider ! N'hésitez pas à revenir.",
    },
    "answer_intro": {
        "en": "Here is what I found:",
        "fr": "Voici ce que j'ai trouvé :",
    },
    "did_it_help": {
        "en": "Did this answer your question?",
        "fr": "Cette réponse vous a-t-elle aidé ?",
    },
    "handoff": {
        "en": "I've passed your request to our support team. Your ticket number is "
        "{number}. An agent will reply here, usually within {delay}.",
        "fr": "J'ai transmis votre demande à notre équipe support. Votre numéro de ticket "
        "est {number}. Un conseiller vous répondra ici, en général sous {delay}.",
    },
    "handoff_frustration": {
        "en": "I'm sorry this has been so frustrating, and that I couldn't sort it out for you. "
        "I've passed your request to a person on our support team, who will see everything "
        "you wrote here, so you won't have to explain it again. Your ticket number is {number}; "
        "an agent will reply here, usually within {delay}.",
        "fr": "Je suis désolé pour ce désagrément, et de ne pas avoir pu régler cela moi-même. "
        "J'ai transmis votre demande à une personne de notre équipe support, qui verra tout ce "
        "que vous avez écrit ici : vous n'aurez pas à tout réexpliquer. Votre numéro de ticket "
        "est {number} ; un conseiller vous répondra ici, en général sous {delay}.",
    },
    "answer_intro_other_language": {
        "en": "Here is what I found (this article is only available in {article_language}):",
        "fr": "Voici ce que j'ai trouvé (cet article n'existe qu'en {article_language}) :",
    },
    "still_waiting": {
        "en": "Your message has been added to ticket {number}. An agent will reply here.",
        "fr": "Votre message a été ajouté au ticket {number}. Un conseiller vous répondra ici.",
    },
    "resolved": {
        "en": "Your ticket {number} has been marked as resolved. If you need anything else, just write here.",
        "fr": "Votre ticket {number} est résolu. Pour toute autre question, écrivez-nous ici.",
    },
    "handback": {
        "en": 'You\'re back with the assistant. Ask me anything, or say "talk to a person".',
        "fr": "Vous êtes de nouveau avec l'assistant. Posez votre question, ou écrivez "
        "« parler à un conseiller ».",
    },
    "clarify": {
        "en": "I'm not sure which of these you mean. Please pick one:",
        "fr": "Je ne suis pas sûr de ce que vous cherchez. Lequel de ces sujets ?",
    },
    "qr_none": {"en": "None of these", "fr": "Aucun des deux"},
    "qr_solved": {"en": "Yes, solved", "fr": "Oui, c'est résolu"},
    "qr_handoff": {"en": "No, talk to a person", "fr": "Non, parler à un conseiller"},
}


_LANGUAGE_NAMES = {  # a language's name, in the language of the sentence it is said in
    "en": {"en": "English", "fr": "French"},
    "fr": {"en": "anglais", "fr": "français"},
}


def text(key: str, lang: str, **kwargs: object) -> str:
    table = _TEXT[key]
    return table.get(lang, table["en"]).format(**kwargs)


def handoff_text(reason: str, lang: str, *, number: str | None, delay: str) -> str:
    """What the customer is told when handed to a person: apologetic and specific
    after frustration, neutral otherwise."""
    key = "handoff_frustration" if reason == FRUSTRATION else "handoff"
    return text(key, lang, number=number, delay=delay)


def language_name(code: str, said_in: str) -> str:
    names = _LANGUAGE_NAMES.get(said_in, _LANGUAGE_NAMES["en"])
    return names.get(code, code)


def delay_text(minutes: int, lang: str) -> str:
    if minutes < 60:
        return f"{minutes} minutes"
    hours = minutes / 60
    shown = f"{hours:g}"
    if lang == "fr":
        return f"{shown} heure" + ("s" if hours >= 2 else "")
    return f"{shown} hour" + ("s" if hours != 1 else "")


def answer_quick_replies(lang: str) -> tuple[QuickReply, ...]:
    return (
        QuickReply("solved", text("qr_solved", lang)),
        QuickReply("handoff", text("qr_handoff", lang)),
    )


def clarify_text(titles: Sequence[str], lang: str) -> str:
    lines = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))
    return f"{text('clarify', lang)}\n\n{lines}"


def clarify_quick_replies(titles: Sequence[str], lang: str) -> tuple[QuickReply, ...]:
    """One button per offered article ("pick:1", "pick:2"), then "None of these"."""
    picks = tuple(QuickReply(f"pick:{n}", title[:80]) for n, title in enumerate(titles, start=1))
    return (*picks, QuickReply("none", text("qr_none", lang)))


def format_answer(title: str, body: str, lang: str, article_lang: str = "") -> str:
    """The bot's answer in the customer's ``lang``; an article in another language
    (``article_lang``, else detected from its text) is introduced as such."""
    written_in = article_lang or detect(f"{title}\n{body}", default=lang)
    if written_in != lang:
        intro = text("answer_intro_other_language", lang,
                     article_language=language_name(written_in, lang))
    else:
        intro = text("answer_intro", lang)
    return f"{intro}\n\n**{title}**\n\n{body.strip()}\n\n{text('did_it_help', lang)}"
