"""Slack's message markup to plain text and back, and Block Kit for quick replies.

Slack sends text with ``<@U123>`` user mentions, ``<#C123|name>`` channels,
``<https://x|label>`` links, ``<!here>`` and HTML-escaped ``& < >``.  The bot and
the operators see plain text; what we post is escaped so a customer's or a bot's
``<`` never becomes a mention.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.models import QuickReply

QUICK_REPLY_ACTION = "guichet_quick_reply"
_TOKEN = re.compile(r"<([^<>]*)>")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


def to_plain(text: str, names: Mapping[str, str] | None = None, *, drop_user: str | None = None) -> str:
    """Slack markup to plain text.  ``names`` maps user ids to display names;
    mentions of ``drop_user`` (the app itself) are removed."""
    names = names or {}

    def token(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            if uid == drop_user:
                return ""
            return "@" + (label or names.get(uid) or uid)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            return label or "@" + special
        if label and label != target.removeprefix("mailto:"):
            return f"{label} ({target.removeprefix('mailto:')})"
        return target.removeprefix("mailto:")

    plain = html.unescape(_TOKEN.sub(token, text or ""))
    return re.sub(r"[ \t]{2,}", " ", plain).strip()


def escape(text: str) -> str:
    """Plain text to Slack text: ``& < >`` escaped (Slack's only required escapes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_plain(text: str) -> str:
    """Plain (or light Markdown) text as Slack ``mrkdwn``: escaped; ``[t](url)``
    links become Slack links; ``**bold**`` becomes ``*bold*``."""
    out = escape(text)
    out = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", out)
    return re.sub(r"\*\*([^*\n]+)\*\*", r"*\1*", out)


def quick_reply_blocks(text: str, quick_replies: Sequence[QuickReply]) -> list[dict[str, Any]]:
    """The message as a section plus one button per quick reply."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": from_plain(text)[:3000] or " "}}
    ]
    if quick_replies:
        blocks.append(
            {
                "type": "actions",
                "block_id": "guichet_quick_replies",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{QUICK_REPLY_ACTION}:{i}",
                        "text": {"type": "plain_text", "text": q.label[:75], "emoji": True},
                        "value": q.id[:2000],
                    }
                    for i, q in enumerate(quick_replies[:25])
                ],
            }
        )
    return blocks


def chosen_blocks(text: str, label: str) -> list[dict[str, Any]]:
    """The same message once a button was pressed: the buttons give way to the choice."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000] or " "}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"› {escape(label)}"}]},
    ]
