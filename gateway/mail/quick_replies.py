"""Quick replies by email: the bot's buttons are numbered lines in the mail, and
a customer's short answer ("1", "2", "yes", "no", "oui", "non") is mapped back to
the button it names (``Inbound.quick_reply``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_YES = {"yes", "y", "oui", "o", "ok", "yep", "yes thanks", "oui merci", "yes, thanks", "oui, merci"}
_NO = {"no", "n", "non", "nope", "no thanks", "non merci"}
_NUMBER = re.compile(r"^\(?(\d{1,2})[).]?$")
YES_IDS = ("solved",)
NO_IDS = ("handoff", "none")


def numbered_lines(labels: Sequence[str]) -> str:
    """"1. Yes, solved" / "2. No, talk to a person"."""
    return "\n".join(f"{n}. {label}" for n, label in enumerate(labels, start=1))


def map_reply(text: str, quick_replies: Sequence[dict[str, Any]]) -> str | None:
    """The id of the quick reply a short answer picks, or None."""
    if not quick_replies:
        return None
    answer = " ".join(text.strip().split()).casefold().rstrip(".!")
    if not answer or len(answer) > 20:
        return None
    ids = [str(q.get("id", "")) for q in quick_replies]
    number = _NUMBER.match(answer)
    if number:
        index = int(number.group(1)) - 1
        return ids[index] if 0 <= index < len(ids) else None
    wanted = YES_IDS if answer in _YES else NO_IDS if answer in _NO else ()
    return next((i for i in ids if i in wanted), None)
