"""What the operators' channel shows: a ticket's root message (summary, console
link, buttons) and one line per mirrored message.  Texts are escaped: nothing a
customer wrote becomes a Slack mention or link."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channels.slack.markup import escape
from gateway.models import AuthorKind, MessageKind, TicketStatus
from gateway.tickets import lifecycle
from gateway.views import MessageView, TicketView

NOT_LINKED = (
    "Your Slack account is not linked to a Guichet operator, so nothing was done. "
    "An admin can link it in the [slack] operators setting."
)
SUMMARY_MESSAGES = 3
LINE_CHARS = 2900


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split()) if limit < 400 else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def root(
    ticket: TicketView, messages: Sequence[MessageView], console_url: str, prefix: str
) -> tuple[str, list[dict[str, Any]]]:
    status = lifecycle.LABELS.get(ticket.status, ticket.status.value)
    owner = ticket.assignee_name or "nobody yet"
    title = f"Ticket {ticket.number}: {ticket.subject}"
    fields = (
        f"*Queue* {escape(ticket.queue)}  ·  *Priority* {escape(ticket.priority or '-')}  ·  "
        f"*Status* {escape(status)}  ·  *Owner* {escape(owner)}\n"
        f"*Customer* {escape(ticket.customer_name)} on {escape(ticket.channel)}  ·  "
        f"*Reason* {escape(ticket.handoff_reason or '-')}"
    )
    said = [m for m in messages if m.author is AuthorKind.CUSTOMER and m.kind is MessageKind.MESSAGE]
    quote = "\n".join(f"> {escape(_clip(m.text, 300))}" for m in said[-SUMMARY_MESSAGES:]) or "> (no message)"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(title, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fields}},
        {"type": "section", "text": {"type": "mrkdwn", "text": quote[:3000]}},
    ]
    buttons: list[dict[str, Any]] = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in the console"},
            "url": console_url,
            "action_id": "guichet_console",
        },
    ]
    active = ticket.status in lifecycle.ACTIVE
    if active and (ticket.assignee_id is None or ticket.status is TicketStatus.NEW):
        buttons.append(
            {
                "type": "button",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Take over"},
                "action_id": "guichet_take_over",
                "value": str(ticket.id),
            }
        )
    if active:
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Resolve"},
                "action_id": "guichet_resolve",
                "value": str(ticket.id),
                "confirm": {
                    "title": {"type": "plain_text", "text": "Resolve the ticket?"},
                    "text": {"type": "plain_text", "text": "The customer is told it is resolved."},
                    "confirm": {"type": "plain_text", "text": "Resolve"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            }
        )
    blocks.append({"type": "actions", "block_id": "guichet_ticket", "elements": buttons})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        f"Replies in this thread are *internal notes*. Start a reply with `{escape(prefix)}` "
                        "to send it to the customer."
                    ),
                }
            ],
        }
    )
    return f"{title} ({status}, {owner})", blocks


def line(m: MessageView) -> str:
    """One mirrored message, saying who wrote it and whether the customer saw it."""
    text = escape(_clip(m.text, LINE_CHARS))
    name = escape(m.author_name) if m.author_name else ""
    if m.kind is MessageKind.EVENT:
        return f"_{text}_"
    if m.kind is MessageKind.NOTE:
        return f":lock: *{name or 'Note'}* (internal note): {text}"
    if m.author is AuthorKind.CUSTOMER:
        return f":speech_balloon: *{name or 'Customer'}* (customer): {text}"
    if m.author is AuthorKind.OPERATOR:
        return f":outbox_tray: *{name or 'Operator'}* to the customer: {text}"
    return f":robot_face: *Bot* to the customer: {text}"
