"""Production feedback on the bot's answers, read from the routed customer messages.

What is stored today (each customer message's ``meta``: action, reason, question,
article_id) says, for an answered question:

- **helpful**: the customer pressed "Yes, solved" (``smalltalk``/``solved``) right
  after it, or picked an article offered by a clarifying question (``clarified``: the
  picked article is the right one for the question asked);
- **not helpful**: the next message said it did not help (``not_helped``), asked the
  same again (``repeated_failure``), was frustrated (``frustration``) or asked for a
  person (``explicit_request``).

An answer followed by nothing, or by a new question, is not labelled.  An operator
inserting an agent-assist suggestion and a ticket resolved with an article are not
recorded anywhere yet, so they are not read (docs/answer-quality.md says what they
would need).  ``guichet kb calibrate`` refits the calibration from these labels
(:mod:`kb_index.feedback_fit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.tables import Message
from kb_index.feedback_fit import Feedback

NOT_HELPED = frozenset({"not_helped", "repeated_failure", "frustration", "explicit_request"})
MAX_MESSAGES = 50_000  # newest customer messages read


class RoutedMessage(Protocol):
    id: int
    conversation_id: int
    text: str
    meta: Any


def feedback_from_messages(messages: Iterable[RoutedMessage]) -> list[Feedback]:
    """Labelled (question, article) pairs from customer messages (any order)."""
    pending: dict[int, tuple[str, str]] = {}  # conversation -> (question, article) last answered
    found: list[Feedback] = []
    for msg in sorted(messages, key=lambda m: m.id):
        meta = msg.meta or {}
        action, reason = str(meta.get("action", "")), str(meta.get("reason", ""))
        question = str(meta.get("question") or msg.text)
        article = str(meta.get("article_id") or "")
        last = pending.get(msg.conversation_id)
        if action == "answer" and reason == "clarified" and article:
            found.append(Feedback(question, article, True, "clarified"))
            pending.pop(msg.conversation_id, None)  # already labelled
        elif action == "answer" and article:
            pending[msg.conversation_id] = (question, article)
        elif last is not None and action == "smalltalk" and reason == "solved":
            found.append(Feedback(*last, True, "solved"))
            del pending[msg.conversation_id]
        elif last is not None and reason in NOT_HELPED:
            found.append(Feedback(*last, False, reason))
            del pending[msg.conversation_id]
        elif action in ("clarify", "handoff"):
            pending.pop(msg.conversation_id, None)  # a new question: the answer stays unlabelled
    return found


async def load_feedback(sessions: async_sessionmaker[AsyncSession], since: datetime) -> list[Feedback]:
    """Feedback from customer messages received since ``since``."""
    stmt = (select(Message).where(Message.direction == "in", Message.created_at >= since)
            .order_by(Message.id.desc()).limit(MAX_MESSAGES))
    async with sessions() as session:
        rows = list((await session.execute(stmt)).scalars())
    return feedback_from_messages(rows)
