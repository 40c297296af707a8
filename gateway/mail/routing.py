"""The bot's stricter answer threshold for email (``email.answer_threshold``):
the ``route`` job of an email conversation goes to a router whose policy uses
it; every other channel's to the default router."""

from __future__ import annotations

import copy

from sqlalchemy import select

from gateway.config import Settings
from gateway.db.tables import Conversation
from gateway.flow.job_queue import JobView
from gateway.flow.jobs import Handler
from gateway.flow.router import Router
from gateway.flow.store import SqlStore
from gateway.protocols import Retriever


def email_settings(settings: Settings) -> Settings:
    stricter = copy.deepcopy(settings)
    stricter.bot.answer_threshold = max(settings.bot.answer_threshold, settings.email.answer_threshold)
    return stricter


class ChannelRoute:
    def __init__(self, store: SqlStore, default: Handler, email: Handler, channel: str = "email") -> None:
        self.store, self.default, self.email, self.channel = store, default, email, channel

    @classmethod
    def build(
        cls, store: SqlStore, default: Handler, retriever: Retriever, settings: Settings
    ) -> ChannelRoute:
        return cls(store, default, Router(store, retriever, email_settings(settings)).handle)

    async def handle(self, job: JobView) -> None:
        if await self._channel(job) == self.channel:
            await self.email(job)
        else:
            await self.default(job)

    async def _channel(self, job: JobView) -> str | None:
        conversation = getattr(job.prepared, "conversation", None)  # the fast path's FreshMessage
        channel = getattr(conversation, "channel", None)
        if isinstance(channel, str):
            return channel
        conversation_id = job.payload.get("conversation_id")
        if not isinstance(conversation_id, int):
            return None
        async with self.store.read() as tx:
            stmt = select(Conversation.channel).where(Conversation.id == conversation_id)
            return (await tx.session.execute(stmt)).scalar_one_or_none()
