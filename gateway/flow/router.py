"""The ``route`` job: decide what happens to one customer message.

A conversation an operator holds (or that waits for one) gets no bot reply:
operators are notified through the bus.  Otherwise the bot policy decides:
answer from the knowledge base, a short courtesy reply, or hand off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.config import Settings
from gateway.db.tables import Conversation, Message
from gateway.flow import replies
from gateway.flow.hot_sql import FreshMessage
from gateway.flow.intents import Intent, classify
from gateway.flow.job_queue import JobView
from gateway.flow.jobs import DeferJob, PermanentJobError
from gateway.flow.policy import Decision, PolicyConfig, decide
from gateway.flow.signals import ConversationContext, context_from_messages, frustration
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.language import detect
from gateway.models import Action, AuthorKind, ConversationState, MessageKind
from gateway.protocols import Retriever
from gateway.tickets import hooks as ticket_hooks

log = logging.getLogger(__name__)

HANDLED_STATES = (ConversationState.PENDING.value, ConversationState.OPERATOR.value)
ORDER_WAIT_ROUNDS = 50  # x 20 ms: then the job is put back for later
ORDER_WAIT_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class _Seen:
    conversation_id: int
    channel: str
    skip: str | None
    text: str
    quick_reply: str | None
    hint: str | None
    context: ConversationContext | None


class Router:
    def __init__(
        self, store: SqlStore, retriever: Retriever, settings: Settings,
        *, channel_thresholds: Mapping[str, float] | None = None,
    ) -> None:
        """``channel_thresholds``: a channel's own answer threshold where it is stricter
        than ``bot.answer_threshold`` (email's ``email.answer_threshold``: a wrong
        answer by mail costs more than one in a chat)."""
        self.store = store
        self.retriever = retriever
        self.settings = settings
        self.channel_thresholds = dict(channel_thresholds or {})

    @property
    def policy(self) -> PolicyConfig:
        return PolicyConfig.from_settings(self.settings.bot)

    def policy_for(self, channel: str) -> PolicyConfig:
        policy = self.policy
        stricter = self.channel_thresholds.get(channel)
        if stricter is not None and stricter > policy.answer_threshold:
            return replace(policy, answer_threshold=stricter)
        return policy

    async def handle(self, job: JobView) -> None:
        """Route one message: read and decide outside the lock (retrieval is slow),
        then apply the decision under the conversation's lock after checking again
        that nobody routed the message or took the conversation meanwhile; the job
        is completed in that same transaction."""
        message_id = job.payload.get("message_id")
        if not isinstance(message_id, int):
            raise PermanentJobError(f"route job without message_id: {job.payload!r}")
        fresh = job.prepared if isinstance(job.prepared, FreshMessage) else None
        seen = self._first_look(fresh, message_id) if fresh else await self._look(job, message_id)
        if seen is None:
            return  # already done (the job ran before a crash marked it done)
        decision: Decision | None = None
        if not seen.skip:
            decision = (
                await decide(
                    seen.text, self.retriever, self.policy_for(seen.channel), quick_reply=seen.quick_reply,
                    lang_hint=seen.hint, context=seen.context,
                )
                if self.settings.bot.enabled
                else Decision(Action.HANDOFF, "bot_disabled", detect(seen.text, seen.hint))
            )
        conversation_id, skip = seen.conversation_id, seen.skip
        if fresh and self.store.sqlite and not skip and decision is not None and _is_answer(decision):
            answer = decision  # SQLite, plain SQL, run by the group commit's leader
            await self.store.apply(lambda tx: self._answer_first(tx, job, fresh, answer), fast=True)
            return
        async with self.store.tx(fast=True) as tx:
            if fresh:  # its conversation's first message: no earlier one to wait for
                tx.recipients[conversation_id] = fresh.identity
            conv = await tx.lock_conversation(conversation_id)
            msg = await tx.message(message_id)
            if not msg.meta.get("routed"):
                if not fresh and await tx.earlier_job_pending(job, conv.id):
                    raise DeferJob(0.05, "an earlier message of the conversation is not routed yet")
                await self._apply(tx, conv, msg, decision, skip)
            await tx.complete_job(job)

    @staticmethod
    async def _answer_first(tx: Tx, job: JobView, fresh: FreshMessage, decision: Decision) -> None:
        """``_apply`` for the bot's answer to a conversation's first message, as
        plain SQL (:meth:`gateway.flow.hot_sql.HotSql.answer_first`)."""
        assert tx.hot is not None and decision.hit is not None
        tx.reply_to = fresh.message.id
        reply = _answer_message(tx, fresh.conversation, decision)
        await tx.hot.answer_first(tx, job, fresh, _decision_meta(decision), reply)

    def _first_look(self, fresh: FreshMessage, message_id: int) -> _Seen:
        """What the decision needs, from what the accept stored (fast path)."""
        msg, conv = fresh.message, fresh.conversation
        skip = self._skip_reason(msg, conv)
        context = None if skip else context_from_messages([], message_id)
        hint = msg.meta.get("language_hint") or conv.lang or None
        return _Seen(conv.id, conv.channel, skip, msg.text, msg.meta.get("quick_reply"), hint, context)

    async def _look(self, job: JobView, message_id: int, first: bool = True) -> _Seen | None:
        """What the decision needs, read without a lock; None if already routed."""
        async with self.store.read() as tx:
            msg = await tx.message(message_id)
            conv = await tx.conversation(msg.conversation_id)
            if msg.meta.get("routed"):
                return None
            if not (first and await tx.earlier_job_pending(job, conv.id)):
                skip = self._skip_reason(msg, conv)
                context = None
                if not skip:
                    history = await tx.messages(conv.id, include_internal=True)
                    context = context_from_messages(history, message_id)
                return _Seen(
                    conv.id, conv.channel, skip, msg.text, msg.meta.get("quick_reply"),
                    msg.meta.get("language_hint") or conv.lang or None, context,
                )
        await self._wait_for_earlier(job, conv.id)
        return await self._look(job, message_id, first=False)

    async def _wait_for_earlier(self, job: JobView, conversation_id: int) -> None:
        """Messages of one conversation are routed in the order they arrived: wait
        (briefly, holding this job's lease) for an earlier one still in flight."""
        for _ in range(ORDER_WAIT_ROUNDS):
            async with self.store.read() as tx:
                if not await tx.earlier_job_pending(job, conversation_id):
                    return
            await asyncio.sleep(ORDER_WAIT_SECONDS)
        raise DeferJob(0.2, "an earlier message of the conversation is not routed yet")

    async def _apply(
        self, tx: Tx, conv: Conversation, msg: Message, decision: Decision | None, skip: str | None
    ) -> None:
        tx.reply_to = msg.id
        if skip or decision is None:
            self._mark(msg, {"action": "none", "reason": skip or "skipped"})
            return
        if conv.state in HANDLED_STATES:  # an operator took it while we searched
            self._mark(msg, {"action": "none", "reason": "operator_took_over"})
            return
        if await ticket_hooks.on_customer_message(tx, conv, msg):  # its ticket reopened
            self._mark(msg, {"action": "none", "reason": "with_operator"})
            return
        self._mark(msg, _decision_meta(decision))
        if _is_answer(decision):
            reply = _answer_message(tx, conv, decision)
            await tx.add_message(
                conv, direction="out", author=AuthorKind.BOT, text=reply.text,
                quick_replies=replies.answer_quick_replies(decision.lang), meta=reply.meta,
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

    async def on_dead(self, tx: Tx, job: JobView, error: str) -> None:
        """A route job that died: the customer is not left without an answer. The
        conversation goes to an operator (ticket, reason "internal_error") with the
        error as an internal note; a conversation an operator holds gets the note."""
        msg = await tx.job_message(job.payload)
        if msg is None:
            return
        conv = await tx.lock_conversation(msg.conversation_id)
        if msg.meta.get("routed"):
            return
        tx.reply_to = msg.id
        note = f"The bot could not route this message ({error[:500]}); it was handed to an operator."
        if conv.state in HANDLED_STATES:
            self._mark(msg, {"action": "none", "reason": "with_operator", "error": error[:500]})
        else:
            self._mark(msg, {"action": "handoff", "reason": "internal_error", "error": error[:500]})
            lang = conv.lang or detect(msg.text, msg.meta.get("language_hint"))
            await self.hand_off(tx, conv, msg, Decision(Action.HANDOFF, "internal_error", lang))
        await tx.add_message(
            conv, direction="out", author=AuthorKind.SYSTEM, kind=MessageKind.NOTE, text=note
        )

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
        await ticket_hooks.on_ticket_created(tx, ticket, conv)  # priority, SLA deadlines, history
        tx.set_state(conv, ConversationState.PENDING)
        lang = decision.lang
        delay = replies.delay_text(self.settings.handoff.first_response_minutes, lang)
        await tx.add_message(
            conv,
            direction="out",
            author=AuthorKind.BOT,
            text=replies.handoff_text(decision.reason, lang, number=ticket.number, delay=delay),
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


def _is_answer(decision: Decision | None) -> bool:
    return decision is not None and decision.action is Action.ANSWER and decision.hit is not None


def _answer_message(tx: Tx, conv: Conversation, decision: Decision) -> Message:
    """The bot's answer from the article it found (not stored yet)."""
    assert decision.hit is not None
    hit = decision.hit
    return tx.new_message(
        conv.id, conv.channel, direction="out", author=AuthorKind.BOT,
        text=replies.format_answer(hit.title, hit.answer, decision.lang, article_lang=hit.lang),
        quick_replies=replies.answer_quick_replies(decision.lang),
        meta={"article_id": hit.article_id, "confidence": decision.confidence},
    )


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
