"""What the bot did with each customer question, and the share it contained.

A *question record* is one customer question the bot decided on: answered
(``confident``), a clarifying question (``vague``), or handed off for not knowing
(``low_confidence``, ``no_match``).  Follow-ups decide its outcome: "that did not
help", asking the same again, frustration, "none of these", a second vague
message or a request for a person right after it mark it *not contained*; an
option picked after a clarification contains it.  Contained: the bot settled it
without a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.tables import Message

NEW_QUESTION = {("answer", "confident"), ("clarify", "vague"), ("handoff", "low_confidence"),
                ("handoff", "no_match")}
FAILED_FOLLOW_UP = {"not_helped", "repeated_failure", "frustration", "explicit_request",
                    "clarification_declined", "vague_again", "clarification_lost"}
MAX_MESSAGES = 20_000  # newest customer messages read for one report


@dataclass
class QuestionRecord:
    message_id: int
    conversation_id: int
    question: str
    at: datetime
    action: str
    reason: str
    lang: str = ""
    article_id: str | None = None
    contained: bool = False
    outcome: str = ""  # the reason that settled it: "confident", "clarified", "not_helped", ...


@dataclass(frozen=True, slots=True)
class Containment:
    before_total: int = 0
    before_contained: int = 0
    after_total: int = 0
    after_contained: int = 0
    split_at: datetime | None = None  # None: one period ("before" is the whole window)

    @staticmethod
    def _share(contained: int, total: int) -> float | None:
        return contained / total if total else None

    @property
    def before(self) -> float | None:
        return self._share(self.before_contained, self.before_total)

    @property
    def after(self) -> float | None:
        return self._share(self.after_contained, self.after_total)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "before_total": self.before_total,
            "before_contained": self.before_contained,
            "after_total": self.after_total,
            "after_contained": self.after_contained,
            "split_at": self.split_at.isoformat() if self.split_at else None,
        }


def records_from_messages(messages: Iterable[Message]) -> list[QuestionRecord]:
    """Question records from routed customer messages (any order: sorted by id)."""
    by_conv: dict[int, list[QuestionRecord]] = {}
    for msg in sorted(messages, key=lambda m: m.id):
        meta = msg.meta or {}
        action, reason = str(meta.get("action", "")), str(meta.get("reason", ""))
        records = by_conv.setdefault(msg.conversation_id, [])
        last = records[-1] if records else None
        if (action, reason) in NEW_QUESTION:
            records.append(QuestionRecord(
                msg.id, msg.conversation_id, str(meta.get("question") or msg.text), msg.created_at,
                action, reason, str(meta.get("lang", "")), meta.get("article_id"),
                contained=action == "answer", outcome=reason,
            ))
        elif last is not None and reason in FAILED_FOLLOW_UP and last.outcome not in FAILED_FOLLOW_UP:
            last.contained, last.outcome = False, reason
        elif last is not None and (action, reason) == ("answer", "clarified") and last.action == "clarify":
            last.contained, last.outcome, last.article_id = True, reason, meta.get("article_id")
        elif action == "smalltalk" or action in ("none", ""):
            continue
    return [r for records in by_conv.values() for r in records]


async def load_records(
    sessions: async_sessionmaker[AsyncSession], since: datetime, until: datetime | None = None
) -> list[QuestionRecord]:
    """Question records of customer messages received in [since, until)."""
    stmt = select(Message).where(Message.direction == "in", Message.created_at >= since)
    if until is not None:
        stmt = stmt.where(Message.created_at < until)
    stmt = stmt.order_by(Message.id.desc()).limit(MAX_MESSAGES)
    async with sessions() as session:
        rows = list((await session.execute(stmt)).scalars())
    return records_from_messages(rows)


def containment_split(records: Sequence[QuestionRecord], split_at: datetime | None) -> Containment:
    """Contained share of ``records`` before and after ``split_at`` (e.g. an approval)."""
    if split_at is None:
        return Containment(len(records), sum(r.contained for r in records))
    before = [r for r in records if r.at < split_at]
    after = [r for r in records if r.at >= split_at]
    return Containment(len(before), sum(r.contained for r in before),
                       len(after), sum(r.contained for r in after), split_at)
