"""The dashboard's words in English and French, handed to the browser as JSON (a
``<meta>`` read by ``static/dashboard.js``), as :mod:`gateway.web.words` does for the
console.  The language comes from ``?lang=`` or the browser's Accept-Language."""

from __future__ import annotations

from typing import Any

from gateway.web.words import CHANNELS

LANGS = ("en", "fr")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Dashboard",
        "period": "Period",
        "from": "From",
        "to": "To",
        "group": "Rows by",
        "show": "Show",
        "csv": "Download CSV",
        "console": "Console",
        "loading": "Loading…",
        "error": "The figures could not be loaded",
        "unreachable": "The server cannot be reached. Check your connection and try again.",
        "none": "—",
        "containment": "Bot containment",
        "fcr": "First-contact resolution",
        "frt": "First response (median, business hours)",
        "resolution": "Resolution (median, business hours)",
        "sla": "SLA first response met",
        "sla_res": "SLA resolution met",
        "csat": "Satisfied (4–5 of 5)",
        "csat_mean": "mean rating",
        "answers": "answers",
        "response_rate": "response rate",
        "backlog": "Backlog at the end",
        "tickets": "Tickets",
        "conversations": "Conversations",
        "contained": "Contained by the bot",
        "escalation": "To second level",
        "handoff": "Handed to a person",
        "volume_chart": "Daily volume",
        "frt_chart": "First response time per day (business hours)",
        "sla_chart": "SLA compliance",
        "csat_chart": "Satisfaction ratings",
        "comments": "What customers said",
        "no_comments": "No survey answer in this period.",
        "out_of": "of 5",
        "dist_chart": "How long tickets waited (business hours, tickets by time)",
        "median": "median",
        "p90": "90th percentile",
        "met": "met",
        "breached": "breached",
        "first_response": "First response",
        "resolution_target": "Resolution",
        "rating": "rating",
        "by_group": "Figures by",
        "queue": "queue",
        "operator": "operator",
        "channel": "channel",
        "day": "day",
        "unassigned": "unassigned",
        "empty": "Nothing in this period.",
        "definitions": "How each figure is counted: docs/KPIS.md",
    },
    "fr": {
        "title": "Tableau de bord",
        "period": "Période",
        "from": "Du",
        "to": "Au",
        "group": "Lignes par",
        "show": "Afficher",
        "csv": "Télécharger le CSV",
        "console": "Console",
        "loading": "Chargement…",
        "error": "Les chiffres n'ont pas pu être chargés",
        "unreachable": "Le serveur est injoignable. Vérifiez la connexion et réessayez.",
        "none": "—",
        "containment": "Résolu par le bot",
        "fcr": "Résolution au premier contact",
        "frt": "Première réponse (médiane, heures ouvrées)",
        "resolution": "Résolution (médiane, heures ouvrées)",
        "sla": "SLA première réponse respecté",
        "sla_res": "SLA résolution respecté",
        "csat": "Satisfaits (4–5 sur 5)",
        "csat_mean": "note moyenne",
        "answers": "réponses",
        "response_rate": "taux de réponse",
        "backlog": "Tickets en cours à la fin",
        "tickets": "Tickets",
        "conversations": "Conversations",
        "contained": "Traitées par le bot",
        "escalation": "Vers le niveau 2",
        "handoff": "Transmises à un conseiller",
        "volume_chart": "Volume par jour",
        "frt_chart": "Délai de première réponse par jour (heures ouvrées)",
        "sla_chart": "Respect des SLA",
        "csat_chart": "Notes de satisfaction",
        "comments": "Ce que disent les clients",
        "no_comments": "Aucune réponse au questionnaire sur cette période.",
        "out_of": "sur 5",
        "dist_chart": "Délais des tickets (heures ouvrées, nombre de tickets par délai)",
        "median": "médiane",
        "p90": "90e centile",
        "met": "respecté",
        "breached": "dépassé",
        "first_response": "Première réponse",
        "resolution_target": "Résolution",
        "rating": "note",
        "by_group": "Chiffres par",
        "queue": "file",
        "operator": "conseiller",
        "channel": "canal",
        "day": "jour",
        "unassigned": "non attribué",
        "empty": "Rien sur cette période.",
        "definitions": "Comment chaque chiffre est compté : docs/KPIS.md",
    },
}

CHANNELS_FR = {"webchat": "Chat web", "email": "E-mail", "slack": "Slack", "phone": "Téléphone"}


def choose_lang(asked: str | None, accept_language: str) -> str:
    """``?lang=`` if known, else the first known language the browser prefers, else English."""
    if asked in LANGS:
        return str(asked)
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "en"


def dashboard_words(lang: str) -> dict[str, Any]:
    return {
        "lang": lang,
        "words": WORDS.get(lang, WORDS["en"]),
        "channels": CHANNELS_FR if lang == "fr" else CHANNELS,
    }
