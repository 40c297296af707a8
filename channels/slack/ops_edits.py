"""An operator edits or deletes, in Slack, a reply or note written in a ticket's thread.

What was stored is never rewritten (the conversation keeps what was said and when).
Instead:

- a reply already sent to a customer **on Slack** is changed (``chat.update``) or
  removed (``chat.delete``) in the customer's thread too, where Slack allows it;
- a reply sent on a channel that cannot take a message back (web chat, email) stays as
  the customer received it;
- either way an internal note on the conversation says what the operator changed and
  whether the customer's copy followed, so the console shows it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack import markup
from channels.slack.desk_actions import VIA
from channels.slack.posting import split_thread_key
from channels.slack.records import SlackRecords
from gateway.flow.store import SqlStore
from gateway.models import AuthorKind, MessageKind

log = logging.getLogger(__name__)


class OperatorEdits:
    def __init__(
        self, store: SqlStore, records: SlackRecords, client: AsyncWebClient, customer_prefix: str
    ) -> None:
        self.store = store
        self.records = records
        self.client = client
        self.prefix = customer_prefix.strip()

    async def on_change(self, event: dict[str, Any]) -> None:
        """A ``message_changed`` or ``message_deleted`` event in an operators' channel."""
        deleted = event.get("subtype") == "message_deleted"
        message = (event.get("previous_message") if deleted else event.get("message")) or {}
        if message.get("bot_id") or not message.get("user") or not message.get("thread_ts"):
            return  # our own posts (the ticket message updated...), other bots, top-level messages
        channel, ts = str(event.get("channel")), str(message.get("ts"))
        new_text = "" if deleted else markup.to_plain(str(message.get("text") or ""))
        if self.prefix and new_text.lower().startswith(self.prefix.lower()):
            new_text = new_text[len(self.prefix) :].strip()
        thread = await self.records.thread_at(channel, str(message.get("thread_ts")))
        if thread is None:
            return
        for suffix in ("", ":to-customer"):
            await self._follow(thread.conversation_id, f"slack-ops:{channel}:{ts}{suffix}", new_text, deleted)

    async def _follow(self, conversation_id: int, external_id: str, new_text: str, deleted: bool) -> None:
        async with self.store.read() as tx:
            conv = await tx.conversation(conversation_id)
            channel, thread_key = conv.channel, conv.thread_key
            found = await tx.find_external(channel, external_id)  # the unique (channel, external_id)
            if found is None:
                return
            stored = await tx.message(found.message_id)
            msg_id, kind, meta, author_name = (
                stored.id,
                stored.kind,
                dict(stored.meta or {}),
                stored.author_name,
            )
        who = author_name or "An operator"
        if kind != MessageKind.MESSAGE.value:
            verb = "deleted" if deleted else f"edited; it now reads: {new_text}"
            note = f"{who} {verb} (an internal note, in Slack)."
        else:
            followed = await self._change_customer_copy(channel, thread_key, meta, new_text, deleted)
            verb = "deleted their reply" if deleted else f"edited their reply; it now reads: {new_text}"
            copy = (
                "the customer's copy in Slack followed"
                if followed
                else f"the customer keeps the version sent ({channel} cannot take a sent message back)"
            )
            note = f"{who} {verb} (in Slack); {copy}."
        async with self.store.tx() as tx:
            conv_locked = await tx.lock_conversation(conversation_id)
            await tx.add_message(
                conv_locked,
                direction="out",
                author=AuthorKind.SYSTEM,
                kind=MessageKind.NOTE,
                text=note[:4000],
                meta={"via": VIA, "edit_of": msg_id},
            )

    async def _change_customer_copy(
        self, channel: str, thread_key: str, meta: dict[str, Any], new_text: str, deleted: bool
    ) -> bool:
        ts = meta.get("delivery_id")
        if channel != "slack" or not isinstance(ts, str):
            return False
        try:
            slack_channel, _ = split_thread_key(thread_key)
            if deleted:
                await self.client.chat_delete(channel=slack_channel, ts=ts)
            else:
                await self.client.chat_update(channel=slack_channel, ts=ts, text=markup.from_plain(new_text))
        except (SlackApiError, ValueError) as exc:
            log.warning("could not change the customer's copy %s: %s", ts, exc)
            return False
        return True
