"""The operators' side of Slack: each handed-off ticket gets a thread in its queue's
operators' channel, and the console and that thread stay in step.

- On handoff (``ticket.created`` on the bus, and the periodic catch-up as the
  durable net) the ticket is posted once: number, queue, priority, customer and
  channel, subject, the customer's last messages, a console link, and the buttons
  *Take over* and *Resolve*.  The root message is updated when the ticket changes.
- The conversation is mirrored into the thread (customer messages, the bot's and
  the console's replies, notes, events): ``mirrored_upto`` remembers how far.
  Messages written in the thread itself (``meta["via"] == "slack"``) are not echoed.
- In the thread, a reply is an **internal note** by default; a reply starting with
  ``slack.customer_prefix`` (``reply:``) goes to the customer on the customer's own
  channel (Slack, web chat or email).  Each outcome is shown on the Slack message
  with a reaction (:lock: note, :outbox_tray: sent to the customer, :no_entry: refused).
- Only Slack users linked to a Guichet operator (``slack.operators``) can act; the
  rules are the console's (one owner per ticket: a conflict is said to the user).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import exists, or_, select

from channels.slack import markup, ops_messages
from channels.slack.desk_actions import VIA, SlackDeskActions
from channels.slack.posting import Poster
from channels.slack.records import POSTED, POSTING, SlackRecords
from gateway.auth.users import get_user
from gateway.config import SlackSettings
from gateway.db.tables import Message, Ticket
from gateway.db.tables_slack import SlackTicketThreadRow
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.protocols import Event
from gateway.tickets import lifecycle
from gateway.views import UserView

log = logging.getLogger(__name__)

TAKE_ACTION = "guichet_take_over"
RESOLVE_ACTION = "guichet_resolve"
REPLY_SHORTCUT = "guichet_reply_to_customer"  # the message shortcut's callback id (README manifest)


def _close_unrun(coro: Coroutine[Any, Any, Any]) -> None:
    coro.close()  # no spawner set: nothing runs in the background


def pairs(items: list[str]) -> dict[str, str]:
    """``["A=B", ...]`` as a mapping (config lists of links)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if sep and key.strip() and value.strip():
            out[key.strip()] = value.strip()
    return out


class OperatorsSide:
    def __init__(
        self, cfg: SlackSettings, desk: SlackDeskActions, records: SlackRecords, poster: Poster, base_url: str
    ) -> None:
        self.cfg = cfg
        self.desk = desk
        self.records = records
        self.poster = poster
        self.client = poster.client
        self.base_url = base_url.rstrip("/")
        self.links = pairs(cfg.operators)
        self.queue_channels = pairs(cfg.queue_channels)
        self._locks: dict[str, asyncio.Lock] = {}
        # Slack calls after the commit, off the request (set by the channel to a task spawner).
        self.later: Callable[[Coroutine[Any, Any, Any]], None] = _close_unrun

    # ----------------------------------------------------------- where, who
    def channel_for(self, queue: str) -> str | None:
        return self.queue_channels.get(queue) or self.cfg.operators_channel or None

    def is_operators_channel(self, channel: str) -> bool:
        return bool(channel) and (
            channel == self.cfg.operators_channel or channel in self.queue_channels.values()
        )

    async def operator(self, slack_user: str) -> UserView | None:
        name = self.links.get(slack_user)
        if not name:
            return None
        try:
            user = await get_user(self.desk.store.sessions, name)
        except NotFoundError:
            log.warning("slack.operators links %s to %r, who does not exist", slack_user, name)
            return None
        return user if user.active else None

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    # ------------------------------------------------------- ticket threads
    async def ensure_thread(self, ticket_id: int) -> None:
        """Post the ticket to its operators' channel, once."""
        async with self._lock(f"t{ticket_id}"):
            known = await self.records.ticket_thread(ticket_id)
            if known is not None and known.state == POSTED:
                return
            ticket = await self.desk.get_ticket(ticket_id)
            channel = known.channel if known else self.channel_for(ticket.queue)
            if channel is None:
                return
            if known is not None and known.state == POSTING:  # an earlier attempt's outcome is unknown
                found = await self._find_root(channel, ticket_id)
                if found:
                    await self.records.thread_posted(ticket_id, found, 0)
                    return
            await self.records.start_thread(ticket_id, ticket.conversation_id, channel)
            messages = await self.desk.messages(ticket.conversation_id, include_internal=True)
            text, blocks = ops_messages.root(
                ticket, messages, self.console_url(ticket.id), self.cfg.customer_prefix
            )
            data = await self.poster.post(
                channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                metadata={"event_type": "guichet_ticket", "event_payload": {"ticket_id": ticket_id}},
            )
            upto = max((m.id for m in messages), default=0)
            await self.records.thread_posted(ticket_id, str(data.get("ts", "")), upto)
        await self.mirror(ticket.conversation_id)

    async def _find_root(self, channel: str, ticket_id: int) -> str | None:
        response = await self.client.conversations_history(
            channel=channel, include_all_metadata=True, limit=200
        )
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == "guichet_ticket"
                and (meta.get("event_payload") or {}).get("ticket_id") == ticket_id
            ):
                return str(message.get("ts"))
        return None

    def console_url(self, ticket_id: int) -> str:
        return f"{self.base_url}/console/tickets/{ticket_id}"

    async def refresh_root(self, ticket_id: int) -> None:
        """The root message shows the ticket as it is now (status, owner, buttons)."""
        thread = await self.records.ticket_thread(ticket_id)
        if thread is None or thread.state != POSTED or not thread.ts:
            return
        ticket = await self.desk.get_ticket(ticket_id)
        messages = await self.desk.messages(ticket.conversation_id, include_internal=False)
        text, blocks = ops_messages.root(
            ticket, messages, self.console_url(ticket.id), self.cfg.customer_prefix
        )
        await self.client.chat_update(channel=thread.channel, ts=thread.ts, text=text, blocks=blocks)

    async def mirror(self, conversation_id: int) -> None:
        """Post what the thread does not show yet, in order, once each."""
        async with self._lock(f"c{conversation_id}"):
            thread = await self.records.conversation_thread(conversation_id)
            if thread is None or thread.state != POSTED or not thread.ts:
                return
            messages = await self.desk.messages(conversation_id, include_internal=True)
            for m in messages:
                if m.id <= thread.mirrored_upto:
                    continue
                if m.meta.get("via") != VIA:
                    await self.poster.post(
                        thread.channel, thread_ts=thread.ts, text=ops_messages.line(m), unfurl_links=False
                    )
                await self.records.mirrored(thread.ticket_id, m.id)

    # ------------------------------------------------------------- the bus
    async def on_event(self, event: Event) -> None:
        if event.topic in ("ticket.created", "ticket.updated"):
            ticket_id = (event.data.get("ticket") or {}).get("id")
            if isinstance(ticket_id, int):
                await self.ensure_thread(ticket_id)
                if event.topic == "ticket.updated":
                    await self.refresh_root(ticket_id)
        elif event.topic == "message.created":
            conversation_id = event.data.get("conversation_id")
            if isinstance(conversation_id, int):
                await self.mirror(conversation_id)

    async def catch_up(self) -> None:
        """The durable net: tickets handed off recently with no thread yet, threads
        behind their conversation (a crash, a lost bus event, a 429)."""
        async with self.desk.store.read() as tx:
            since = tx.now() - timedelta(hours=self.cfg.backfill_hours)
            Thread = SlackTicketThreadRow
            missing = (
                select(Ticket.id)
                .outerjoin(Thread, Thread.ticket_id == Ticket.id)
                .where(
                    Ticket.created_at >= since,
                    Ticket.status.in_([s.value for s in lifecycle.ACTIVE]),
                    or_(Thread.ticket_id.is_(None), Thread.state != POSTED),
                )
            )
            recent = list((await tx.session.execute(missing)).scalars())
            newer = exists().where(
                Message.conversation_id == Thread.conversation_id, Message.id > Thread.mirrored_upto
            )
            behind = select(Thread.conversation_id).where(Thread.state == POSTED, newer).distinct()
            lagging = list((await tx.session.execute(behind)).scalars())
        for ticket_id in recent:
            await self.ensure_thread(ticket_id)
        for conversation_id in lagging:
            await self.mirror(conversation_id)
        await self.records.forget_events(self.cfg.event_memory_hours)

    # ------------------------------------------------------ Slack actions
    async def on_button(
        self, action_id: str, ticket_id: int, slack_user: str, channel: str, thread_ts: str | None
    ) -> None:
        user = await self.operator(slack_user)
        if user is None:
            self.later(self.tell(channel, slack_user, thread_ts, ops_messages.NOT_LINKED))
            return
        try:
            if action_id == TAKE_ACTION:
                await self.desk.take_over(ticket_id, user)
            else:
                await self.desk.resolve(ticket_id, user)
        except (ConflictError, NotFoundError, InvalidInputError) as exc:
            self.later(self.tell(channel, slack_user, thread_ts, f"Not done: {exc}."))
            return
        self.later(self.refresh_root(ticket_id))

    async def on_thread_message(self, event: dict[str, Any]) -> None:
        """A message in an operators' channel: a reply in a ticket's thread."""
        if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
            return  # our own mirror posts, other bots, edits and deletions (not propagated)
        channel, ts, thread_ts = str(event.get("channel")), str(event.get("ts")), event.get("thread_ts")
        if not thread_ts or not event.get("user"):
            return
        text = markup.to_plain(str(event.get("text") or ""), drop_user=None)
        prefix = self.cfg.customer_prefix.strip()
        to_customer = bool(prefix) and text.lower().startswith(prefix.lower())
        if to_customer:
            text = text[len(prefix) :].strip()
        await self._relay(
            channel, ts, str(thread_ts), str(event["user"]), text, to_customer, f"slack-ops:{channel}:{ts}"
        )

    async def on_reply_shortcut(self, body: dict[str, Any]) -> None:
        """The *Reply to customer* message shortcut on one's own message in a ticket's
        thread: its text goes to the customer (the note it was stays a note)."""
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id", ""))
        slack_user = str((body.get("user") or {}).get("id", ""))
        ts, thread_ts = str(message.get("ts", "")), message.get("thread_ts")
        if not thread_ts or thread_ts == ts:
            await self.tell(channel, slack_user, None, "Use it on a reply in a ticket's thread.")
            return
        if message.get("user") != slack_user:
            await self.tell(
                channel, slack_user, str(thread_ts), "You can send only your own messages to the customer."
            )
            return
        text = markup.to_plain(str(message.get("text") or ""), drop_user=None)
        await self._relay(
            channel, ts, str(thread_ts), slack_user, text, True, f"slack-ops:{channel}:{ts}:to-customer"
        )

    async def _relay(
        self,
        channel: str,
        ts: str,
        thread_ts: str,
        slack_user: str,
        text: str,
        to_customer: bool,
        external_id: str,
    ) -> None:
        thread = await self.records.thread_at(channel, thread_ts)
        if thread is None:
            return
        user = await self.operator(slack_user)
        if user is None:
            self.later(self.tell(channel, slack_user, thread_ts, ops_messages.NOT_LINKED))
            return
        try:
            if to_customer:
                await self.desk.reply_from_slack(thread.conversation_id, user, text, external_id)
            else:
                await self.desk.note_from_slack(thread.conversation_id, user, text, external_id)
        except (ConflictError, InvalidInputError, NotFoundError) as exc:
            self.later(self.react(channel, ts, "no_entry"))
            self.later(self.tell(channel, slack_user, thread_ts, f"Not sent to the customer: {exc}."))
            return
        self.later(self.react(channel, ts, "outbox_tray" if to_customer else "lock"))

    async def tell(self, channel: str, user: str, thread_ts: str | None, text: str) -> None:
        """An ephemeral message to one Slack user (only they see it)."""
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            await self.client.chat_postEphemeral(**kwargs)
        except SlackApiError as exc:
            log.warning("could not tell %s in %s: %s", user, channel, exc)

    async def react(self, channel: str, ts: str, name: str) -> None:
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            log.info("reaction %s on %s/%s: %s", name, channel, ts, exc)
