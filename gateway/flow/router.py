"""The ``route`` job: decide what happens to one customer message.

A conversation an operator holds (or that waits for one) gets no bot reply:
operators are notified through the bus.  Otherwise the bot policy decides:
answer from the knowledge base, a short courtesy reply, or hand off.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.config import Settings
from gateway.db.tables import Conversation, Message
from gateway.flow import replies
from gateway.flow.intents import Intent, classify
from gateway.flow.jobs import PermanentJobError
from gateway.flow.policy import Decision, PolicyConfig, decide
from gateway.flow.signals import context_from_messages, frustration
from gateway.flow.store import JobView, SqlStore
from gateway.flow.tx import Tx
from gateway.language import detect
from gateway.models import Action, AuthorKind, ConversationState
from gateway.protocols import Retriever

log = logging.getLogger(__name__)

HANDLED_STATES = (ConversationState.PENDING.value, ConversationState.OPERATOR.value)


class Router:
    def __init__(self, store: SqlStore, retriever: Retriever, settings: Settings) -> None:
        self.store = store
        self.retriever = retriever
        self.settings = settings

    @property
    def policy(self) -> PolicyConfig:
        return PolicyConfig.from_settings(self.settings.bot)

    async def handle(self, job: JobView) -> None:
        message_id = job.payload.get("message_id")
        if not isinstance(message_id, int):
            raise PermanentJobError(f"route job without message_id: {job.payload!r}")
        async with self.store.tx() as tx:
            msg = await tx.message(message_id)
            conv = await tx.conversation(msg.conversation_id)
            if msg.meta.get("routed"):
                return  # already done (the job ran before a crash marked it done)
            skip = self._skip_reason(msg, conv)
            if skip:
                self._mark(msg, {"action": "none", "reason": skip})
                return
            text, quick_reply = msg.text, msg.meta.get("quick_reply")
            hint = msg.meta.get("language_hint") or conv.lang or None
            history = await tx.messages(conv.id, include_internal=True)
            context = context_from_messages(history, message_id)

        decision = (
            await decide(
                text, self.retriever, self.policy, quick_reply=quick_reply, lang_hint=hint, context=context
            )
            if self.settings.bot.enabled
            else Decision(Action.HANDOFF, "bot_disabled", detect(text, hint))
        )

        async with self.store.tx() as tx:
            msg = await tx.message(message_id)
            conv = await tx.conversation(msg.conversation_id)
            if msg.meta.get("routed"):
                return
            if conv.state in HANDLED_STATES:  # an operator took it while we searched
                self._mark(msg, {"action": "none", "reason": "operator_took_over"})
                return
            self._mark(msg, _decision_meta(decision))
            if decision.action is Action.ANSWER and decision.hit is not None:
                hit = decision.hit
                await tx.add_message(
                    conv,
                    direction="out",
                    author=AuthorKind.BOT,
                    text=replies.format_answer(hit.title, hit.answer, decision.lang),
                    quick_replies=replies.answer_quick_replies(decision.lang),
                    meta={"article_id": hit.article_id, "confidence": decision.confidence},
                )
            elif decision.action is Action.CLARIFY:
                await self._clarify(tx, conv, decision)
            elif decision.action is Action.SMALLTALK:
                key = {"greeting": "greeting", "thanks": "thanks", "solved": "solved"}.get(
                    decision.intent.value, "empty"
                )
                await tx.add_message(
                    conv, direction="out", author=AuthorKind.BOT, text=replies.text(key, decision.lang)
                )
                if decision.intent is Intent.SOLVED:
                    tx.set_state(conv, ConversationState.RESOLVED)
            else:
                await self.hand_off(tx, conv, msg, decision)

    @staticmethod
    async def _clarify(tx: Tx, conv: Conversation, decision: Decision) -> None:
        """Ask which of the close articles the customer means; the options are kept
        in the message's meta so the next message can be matched against them."""
        titles = [hit.title for hit in decision.options]
        options = [{"id": hit.article_id, "title": hit.title} for hit in decision.options]
        await tx.add_message(
            conv,
            direction="out",
            author=AuthorKind.BOT,
            text=replies.clarify_text(titles, decision.lang),
            quick_replies=replies.clarify_quick_replies(titles, decision.lang),
            meta={"clarification": {"question": decision.question, "options": options}},
        )

    def _skip_reason(self, msg: Message, conv: Conversation) -> str | None:
        if msg.meta.get("auto_submitted"):
            return "auto_submitted"
        if msg.meta.get("bounce"):
            return "bounce"
        if conv.state in HANDLED_STATES:
            return "with_operator"
        return None

    @staticmethod
    def _mark(msg: Message, info: dict[str, Any]) -> None:
        msg.meta = {**msg.meta, "routed": True, **info}

    async def hand_off(self, tx: Tx, conv: Conversation, msg: Message, decision: Decision) -> None:
        """Open a ticket in the first-level queue and tell the customer its number
        and the expected first-response time."""
        subject = _one_line(decision.question) if decision.question else await self._subject(tx, conv, msg)
        ticket = await tx.open_ticket(conv, subject=subject, reason=decision.reason)
        tx.set_state(conv, ConversationState.PENDING)
        lang = decision.lang
        delay = replies.delay_text(self.settings.handoff.first_response_minutes, lang)
        await tx.add_message(
            conv,
            direction="out",
            author=AuthorKind.BOT,
            text=replies.text("handoff", lang, number=ticket.number, delay=delay),
            meta={"ticket_number": ticket.number},
        )
        opened = f"Ticket {ticket.number} opened in queue {ticket.queue} ({decision.reason})."
        await tx.add_event(conv, opened)
        await tx.emit_ticket("ticket.created", ticket)

    @staticmethod
    async def _subject(tx: Tx, conv: Conversation, trigger: Message) -> str:
        """The customer's last real question (not "talk to a person")."""
        msgs = await tx.messages(conv.id, include_internal=False)
        for m in reversed(msgs):
            if m.direction == "in" and classify(m.text) is Intent.NONE and not frustration(m.text):
                return _one_line(m.text)
        return _one_line(trigger.text) or "(no subject)"


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _decision_meta(decision: Decision) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "action": decision.action.value,
        "reason": decision.reason,
        "confidence": round(decision.confidence, 4),
        "lang": decision.lang,
    }
    if decision.hit is not None:
        meta["article_id"] = decision.hit.article_id
    if decision.question:
        meta["question"] = decision.question
    if decision.signal:
        meta["signal"] = decision.signal
    if decision.options:
        meta["options"] = [hit.article_id for hit in decision.options]
    if decision.result is not None:
        meta["index_version"] = decision.result.index_version
        meta["candidates"] = [
            {"id": h.article_id, "title": h.title, "score": round(h.score, 4)}
            for h in decision.result.hits[:3]
        ]
    return meta
