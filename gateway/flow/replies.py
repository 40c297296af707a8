"""The bot's own sentences, in French and English."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.models import QuickReply

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


def text(key: str, lang: str, **kwargs: object) -> str:
    table = _TEXT[key]
    return table.get(lang, table["en"]).format(**kwargs)


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


def format_answer(title: str, body: str, lang: str) -> str:
    return f"{text('answer_intro', lang)}\n\n**{title}**\n\n{body.strip()}\n\n{text('did_it_help', lang)}"
