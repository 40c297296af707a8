"""The customers' side of Slack: direct messages to the app and mentions of it
become :class:`~gateway.models.Inbound` messages, one Slack thread per conversation.

- Thread key ``CHANNEL:ROOT_TS``.  A reply in a thread continues that thread's
  conversation.  A top-level DM continues the customer's current DM thread until
  its conversation is resolved; then it starts a new thread (a new conversation).
  A mention in a channel starts (or, inside a thread, continues) that thread's
  conversation; later messages in that thread need no mention.
- External id ``CHANNEL:TS`` (Slack's message identity): the ``message`` and the
  ``app_mention`` event of one message, and every retry, are one message.
- Ignored on purpose: the app's own messages, other bots' messages, joins, topic
  changes and other subtypes.  A customer's edit or deletion is not routed to the
  bot again; it is recorded on the conversation as an internal note so operators
  see it (the original text stays).
- A pressed quick-reply button is the customer's answer (``Inbound.quick_reply``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from channels.slack import markup
from channels.slack.records import SlackRecords
from gateway.clock import Clock
from gateway.flow.channel_context import HistoryFn
from gateway.flow.store import SqlStore
from gateway.models import AuthorKind, ConversationState, Identity, Inbound, MessageKind
from gateway.protocols import AcceptFn

log = logging.getLogger(__name__)

NAME = "slack"
CONTENT_SUBTYPES = (None, "file_share", "thread_broadcast")
NAME_TIMEOUT = 1.0  # seconds: a users.info slower than this leaves the user id as the name


class Names:
    """Display names of Slack users (``users.info``), cached."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.known: dict[str, str] = {}

    async def name(self, user_id: str) -> str:
        if user_id in self.known:
            return self.known[user_id]
        try:
            response = await asyncio.wait_for(self.client.users_info(user=user_id), NAME_TIMEOUT)
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user_id
        except Exception as exc:  # a name is a nicety: never fail a message for it
            log.info("no display name for Slack user %s: %s", user_id, exc)
            return user_id
        self.known[user_id] = str(name)
        return self.known[user_id]


class CustomerSide:
    def __init__(
        self,
        store: SqlStore,
        records: SlackRecords,
        names: Names,
        history: HistoryFn,
        clock: Clock,
        bot_user: Callable[[], str | None],
    ) -> None:
        self.store = store
        self.records = records
        self.names = names
        self.history = history
        self.clock = clock
        self.bot_user = bot_user
        self.accept: AcceptFn | None = None
        self._dm_locks: dict[str, asyncio.Lock] = {}

    # ---------------------------------------------------------------- events
    async def on_message(self, event: dict[str, Any]) -> None:
        """A ``message`` event outside the operators' channels."""
        subtype = event.get("subtype")
        if subtype in ("message_changed", "message_deleted"):
            await self._edited(event)
            return
        if subtype not in CONTENT_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return  # bots (ourselves included), joins, topics...: deliberately not customers
        if event.get("user") == self.bot_user():
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        thread_ts = event.get("thread_ts")
        if event.get("channel_type") == "im":
            thread_key = await self._dm_thread(channel, ts, thread_ts)
        elif thread_ts:
            thread_key = f"{channel}:{thread_ts}"
            conv, _ = await self.history(NAME, thread_key)
            if conv is None:
                return  # a thread we were never asked into
        else:
            return  # a channel message not addressed to the app
        await self._accept(event, thread_key)

    async def on_mention(self, event: dict[str, Any]) -> None:
        """``app_mention``: a customer asks the app in a channel."""
        if event.get("bot_id") or not event.get("user") or event.get("user") == self.bot_user():
            return
        channel = str(event.get("channel", ""))
        root = event.get("thread_ts") or event.get("ts")
        await self._accept(event, f"{channel}:{root}")

    async def on_quick_reply(self, body: dict[str, Any], action: dict[str, Any]) -> bool:
        """A quick-reply button pressed by the customer; True if accepted."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        root = container.get("thread_ts") or message.get("thread_ts") or container.get("message_ts")
        user = str((body.get("user") or {}).get("id", ""))
        if not channel or not root or not user:
            return False
        label = str(((action.get("text") or {}).get("text")) or action.get("value") or "")
        event = {
            "user": user,
            "ts": f"qr-{action.get('action_ts') or container.get('message_ts')}",
            "channel": channel,
            "text": label,
        }
        await self._accept(event, f"{channel}:{root}", quick_reply=str(action.get("value") or ""))
        return True

    # --------------------------------------------------------------- helpers
    async def _dm_thread(self, channel: str, ts: str, thread_ts: str | None) -> str:
        if thread_ts:
            return f"{channel}:{thread_ts}"
        async with self._dm_locks.setdefault(channel, asyncio.Lock()):
            root = await self.records.dm_root(channel)
            if root:
                key = f"{channel}:{root}"
                conv, _ = await self.history(NAME, key)
                if conv is not None and conv.state is not ConversationState.RESOLVED:
                    return key
            await self.records.set_dm_root(channel, ts)
            return f"{channel}:{ts}"

    async def _accept(self, event: dict[str, Any], thread_key: str, quick_reply: str | None = None) -> None:
        if self.accept is None:
            raise RuntimeError("the Slack channel is not started")
        user = str(event["user"])
        text = markup.to_plain(str(event.get("text") or ""), self.names.known, drop_user=self.bot_user())
        files = [f.get("name") or f.get("title") or "file" for f in event.get("files") or []]
        if files:
            text = (text + "\n" if text else "") + "\n".join(f"[file: {name}]" for name in files)
        inbound = Inbound(
            channel=NAME,
            external_id=f"{event.get('channel')}:{event.get('ts')}",
            thread_key=thread_key,
            sender=Identity(NAME, user, await self.names.name(user)),
            text=text,
            received_at=self.clock.now(),
            quick_reply=quick_reply,
        )
        await self.accept(inbound)

    async def _edited(self, event: dict[str, Any]) -> None:
        """A customer's edit or deletion: an internal note on the conversation."""
        before = event.get("previous_message") or {}
        after = event.get("message") or {}
        original = after if event.get("subtype") == "message_changed" else before
        if original.get("bot_id") or not original.get("user") or original.get("user") == self.bot_user():
            return
        external_id = f"{event.get('channel')}:{original.get('ts')}"
        if event.get("subtype") == "message_changed":
            new_text = markup.to_plain(
                str(after.get("text") or ""), self.names.known, drop_user=self.bot_user()
            )
            note = f"The customer edited this message in Slack; it now reads: {new_text}"
        else:
            note = "The customer deleted a message in Slack (its text is kept here)."
        async with self.store.tx() as tx:
            found = await tx.find_external(NAME, external_id)
            if found is None:
                return
            conv = await tx.lock_conversation(found.conversation_id)
            await tx.add_message(
                conv,
                direction="out",
                author=AuthorKind.SYSTEM,
                kind=MessageKind.NOTE,
                text=note[:4000],
                meta={"edit_of": found.message_id},
            )
