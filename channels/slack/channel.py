"""The ``slack`` channel: one workspace, one bot token (docs/slack.md).

Customers write to the app in direct messages or mention it in a channel
(:mod:`channels.slack.customers`); operators work tickets in the operators'
channels (:mod:`channels.slack.operators`).  Requests arrive through
:mod:`channels.slack.transport`; the outbox's sends leave through
:mod:`channels.slack.posting`.  The composition root binds the core with
:meth:`SlackChannel.bind_core` (see :mod:`channels.slack.wiring`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack import markup
from channels.slack.customers import NAME, CustomerSide, Names
from channels.slack.desk_actions import SlackDeskActions
from channels.slack.operators import REPLY_SHORTCUT, RESOLVE_ACTION, TAKE_ACTION, OperatorsSide
from channels.slack.ops_edits import OperatorEdits
from channels.slack.posting import Pacer, Poster
from channels.slack.records import SlackRecords
from channels.slack.transport import SocketMode, build_bolt, setup_http
from gateway.flow.channel_context import ChannelContext
from gateway.flow.store import SqlStore
from gateway.models import Delivery, Outbound, TransientDeliveryError
from gateway.protocols import AcceptFn

log = logging.getLogger(__name__)


class SlackChannel:
    name = NAME

    def __init__(self, ctx: ChannelContext, *, client: AsyncWebClient | None = None) -> None:
        self.ctx = ctx
        self.cfg = ctx.settings.slack
        self.client = client or AsyncWebClient(token=self.cfg.bot_token or None, base_url=self.cfg.api_url)
        self.bot_user_id: str | None = None
        self.customers: CustomerSide | None = None
        self.operators: OperatorsSide | None = None
        self.poster: Poster | None = None
        self.records: SlackRecords | None = None
        self.socket: SocketMode | None = None
        self.edits: OperatorEdits | None = None
        self.bolt: Any = None  # the slack_bolt AsyncApp (None: refusing every request)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._app: web.Application | None = None

    # --------------------------------------------------------- composition
    def bind_core(self, store: SqlStore) -> None:
        """Called by the composition root: the store this channel keeps its records in."""
        self.records = SlackRecords(store)
        pacer = Pacer(self.cfg.min_post_interval)
        self.poster = Poster(self.client, self.records, pacer, operator_names=self.cfg.operator_names)
        self.customers = CustomerSide(
            store,
            self.records,
            Names(self.client),
            self.ctx.history,
            self.ctx.clock,
            lambda: self.bot_user_id,
        )
        self.operators = OperatorsSide(
            self.cfg, SlackDeskActions(store), self.records, self.poster, self.ctx.settings.base_url
        )
        self.operators.later = lambda coro: self.spawn(coro, "slack-operators")
        self.edits = OperatorEdits(store, self.records, self.client, self.cfg.customer_prefix)

    def setup_routes(self, app: web.Application) -> None:
        """``/slack/events`` and ``/slack/actions`` (refusing everything until bound,
        and always in Socket Mode or without a signing secret)."""
        self._app = app

    def mount(self) -> None:
        """Build the Bolt app and mount the HTTP endpoints (after :meth:`bind_core`)."""
        assert self.records is not None, "bind_core first"
        bolt = build_bolt(self.cfg, self.client, self.records, self)
        http_bolt = bolt if self.cfg.mode == "http" else None
        if self._app is not None:
            setup_http(self._app, http_bolt)
        if self.cfg.mode == "socket" and bolt is not None:
            self.socket = SocketMode(bolt, self.cfg.app_token, self.client)
        self.bolt = bolt

    # --------------------------------------------------------------- Channel
    async def start(self, accept: AcceptFn) -> None:
        if self.customers is None or self.operators is None:
            raise RuntimeError("the Slack channel needs the core (channels.slack.wiring.setup_slack)")
        self.customers.accept = accept
        try:
            auth = await self.client.auth_test()
            self.bot_user_id = str(auth.get("user_id") or "") or None
        except Exception as exc:  # Slack down at start: the bot's own events are still dropped by Bolt
            log.warning("Slack auth.test failed at start: %s", exc)
        if self.operators.cfg.operators_channel or self.operators.queue_channels:
            self.spawn(self._follow_bus(), "slack-operators-bus")
        if self.socket is not None:  # connect_async retries until Slack answers: not in the start path
            self.spawn(self.socket.start(), "slack-socket-mode")

    async def stop(self) -> None:
        if self.socket is not None:
            try:
                await self.socket.stop()
            except Exception:
                log.exception("closing the Slack Socket Mode connection failed")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def send(self, outbound: Outbound) -> Delivery:
        if self.poster is None:
            raise TransientDeliveryError("the Slack channel is not bound to the core yet")
        return await self.poster.send(outbound)

    # ------------------------------------------------------------ listeners
    async def on_message(self, event: dict[str, Any]) -> None:
        assert self.customers is not None and self.operators is not None
        if self.operators.is_operators_channel(str(event.get("channel", ""))):
            if event.get("user") and event.get("user") == self.bot_user_id:
                return
            if event.get("subtype") in ("message_changed", "message_deleted") and self.edits is not None:
                await self.edits.on_change(event)
            else:
                await self.operators.on_thread_message(event)
        else:
            await self.customers.on_message(event)

    async def on_mention(self, event: dict[str, Any]) -> None:
        assert self.customers is not None and self.operators is not None
        if not self.operators.is_operators_channel(str(event.get("channel", ""))):
            await self.customers.on_mention(event)

    async def on_action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        assert self.customers is not None and self.operators is not None
        action_id = str(action.get("action_id", ""))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id", ""))
        if action_id.startswith(markup.QUICK_REPLY_ACTION):
            if await self.customers.on_quick_reply(body, action):
                self.spawn(self._show_choice(body, action), "slack-quick-reply")
        elif action_id in (TAKE_ACTION, RESOLVE_ACTION):
            try:
                ticket_id = int(str(action.get("value", "")))
            except ValueError:
                return
            await self.operators.on_button(
                action_id, ticket_id, user, channel, container.get("thread_ts") or container.get("message_ts")
            )

    async def on_shortcut(self, body: dict[str, Any]) -> None:
        assert self.operators is not None
        if body.get("callback_id") == REPLY_SHORTCUT and body.get("type") == "message_action":
            await self.operators.on_reply_shortcut(body)

    async def _show_choice(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        container = body.get("container") or {}
        message = body.get("message") or {}
        label = str(((action.get("text") or {}).get("text")) or action.get("value") or "")
        with contextlib.suppress(SlackApiError):
            await self.client.chat_update(
                channel=str(container.get("channel_id", "")),
                ts=str(container.get("message_ts", "")),
                text=message.get("text") or label,
                blocks=markup.chosen_blocks(str(message.get("text") or ""), label),
            )

    # -------------------------------------------------------------- helpers
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow_bus(self) -> None:
        """Keep the operators' threads in step with tickets and conversations."""
        assert self.operators is not None
        async for event in self.ctx.bus.subscribe("ticket.", "message.created"):
            try:
                await self.operators.on_event(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "updating the operators' thread after %s failed; the catch-up retries", event.topic
                )


def create_channel(ctx: ChannelContext) -> SlackChannel:
    return SlackChannel(ctx)
