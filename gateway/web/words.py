"""Human words for the codes the core stores: handoff reasons, ticket statuses,
channels, delivery states.

One table for both sides of the console: the server renders the first page with it
(:func:`event_text`, used by :mod:`gateway.web.console`) and hands it to the browser as
JSON (:func:`console_words`, a ``<meta>`` read by ``static/console-words.js``), so a live event reads
the same as a reloaded one.  A code with no entry is still shown without underscores
("some_new_code" -> "some new code"), never as a bare code.

These tables are English only; the ticket desk's words (queue views, SLA, the
ticket's tools) come in English and French from :mod:`gateway.web.desk_words`.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.web.desk_words import DESK_WORDS

# Why the bot handed a conversation to a person (gateway.flow.policy's handoff
# reasons, "operator" for a ticket an operator opened by hand).
HANDOFF_REASONS: dict[str, str] = {
    "explicit_request": "the customer asked for a person",
    "frustration": "the customer sounded frustrated",
    "not_helped": "the answer did not help",
    "repeated_failure": "the bot failed several times",
    "clarification_declined": "none of the suggested articles fitted",
    "vague_again": "the question stayed unclear",
    "no_match": "no article matches the question",
    "low_confidence": "the bot was not sure of its answer",
    "degenerate": "the message was too short to answer",
    "operator": "opened by an operator",
}

TICKET_STATUSES: dict[str, str] = {
    "new": "new",
    "open": "open",
    "pending_customer": "waiting for the customer",
    "pending_third_party": "waiting for a third party",
    "resolved": "resolved",
    "closed": "closed",
}

CHANNELS: dict[str, str] = {
    "webchat": "Web chat",
    "email": "Email",
    "slack": "Slack",
    "phone": "Phone",
}

DELIVERY: dict[str, str] = {
    "queued": "queued",
    "sending": "sending…",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "not delivered",
}

_CODE = re.compile(r"\(([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+)\)")


def plain_code(code: str) -> str:
    """A code with no entry: at least no underscores."""
    return code.replace("_", " ")


def reason_text(code: str) -> str:
    return HANDOFF_REASONS.get(code, plain_code(code)) if code else ""


def event_text(text: str) -> str:
    """An event line with its reason code in words: "Ticket G-7 opened in queue L1
    (explicit_request)." -> "... (the customer asked for a person)."."""
    return _CODE.sub(lambda m: f"({reason_text(m.group(1))})", text)


def console_words() -> dict[str, Any]:
    """Everything above, for the browser (a JSON block in the console page)."""
    return {
        "reasons": HANDOFF_REASONS,
        "statuses": TICKET_STATUSES,
        "channels": CHANNELS,
        "delivery": DELIVERY,
        "desk": DESK_WORDS,  # {"en": {...}, "fr": {...}}
    }
