"""How Slack's requests reach us: the real ``slack-bolt`` ``AsyncApp``, served on
the application's own aiohttp server (``/slack/events``, ``/slack/actions``) or
over Socket Mode (``connect_async()`` / ``close_async()``), chosen by ``slack.mode``.

Safety, in this order:

1. **Fail closed.** In HTTP mode with no signing secret configured, no Bolt app is
   built and every request is refused (401): an unauthenticated endpoint is never
   served by accident.
2. Bolt's request verification (always on here): a bad or missing
   ``X-Slack-Signature`` and a ``X-Slack-Request-Timestamp`` more than 5 minutes
   away are refused with 401 before any listener runs.
3. A repeated ``event_id`` (Slack's retries, ``X-Slack-Retry-Num``, and duplicate
   deliveries) is acknowledged and dropped: event ids are remembered durably
   (``slack_events``) once their listener succeeded.  Messages are also
   deduplicated by their own identity in the core, so a retry that races the first
   delivery still stores one message.
4. Listeners run before the response (``process_before_response``): the HTTP 200
   is sent once the message is committed; routing, the bot's answer and every
   Slack call happen after it (jobs and background tasks).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack.records import SlackRecords
from gateway.config import SlackSettings
from gateway.web.access import public

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
ACTIONS_PATH = "/slack/actions"
REFUSED = "Slack requests are refused: no signing secret is configured ([slack] signing_secret)."


class Listeners(Protocol):
    async def on_message(self, event: dict[str, Any]) -> None: ...

    async def on_mention(self, event: dict[str, Any]) -> None: ...

    async def on_action(self, body: dict[str, Any], action: dict[str, Any]) -> None: ...

    async def on_shortcut(self, body: dict[str, Any]) -> None: ...


def build_bolt(
    cfg: SlackSettings, client: AsyncWebClient, records: SlackRecords, listeners: Listeners
) -> AsyncApp | None:
    """The Bolt app, or None when it must not exist (HTTP mode with no secret)."""
    secret = cfg.signing_secret.strip()
    if cfg.mode == "http" and not secret:
        log.error(REFUSED)
        return None
    bolt = AsyncApp(
        name="guichet",
        client=client,  # holds the bot token (and the API URL)
        signing_secret=secret or "socket-mode-has-no-http-requests",
        process_before_response=True,
        request_verification_enabled=True,
        ignoring_self_events_enabled=True,
        logger=logging.getLogger("channels.slack.bolt"),
    )

    async def once_per_event(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> Any:
        """A global middleware: an event id already handled is acknowledged, not run."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and await records.seen(event_id):
            return BoltResponse(status=200, body="")  # a retry or a repeat: already handled
        return await next()

    async def handled(body: dict[str, Any]) -> None:
        """After the listener succeeded (a failure is a 500: Slack retries it)."""
        event_id = body.get("event_id")
        if isinstance(event_id, str):
            await records.remember(event_id, str((body.get("event") or {}).get("type", "event")))

    bolt.middleware(once_per_event)

    @bolt.event("message")
    async def message(event: dict[str, Any], body: dict[str, Any]) -> None:
        await listeners.on_message(event)
        await handled(body)

    @bolt.event("app_mention")
    async def mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        await listeners.on_mention(event)
        await handled(body)

    @bolt.action(re.compile(r"^guichet_"))
    async def action(ack: Callable[[], Awaitable[Any]], body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await listeners.on_action(body, action)

    @bolt.shortcut(re.compile(r"^guichet_"))
    async def shortcut(ack: Callable[[], Awaitable[Any]], body: dict[str, Any]) -> None:
        await ack()
        await listeners.on_shortcut(body)

    return bolt


def setup_http(app: web.Application, bolt: AsyncApp | None) -> None:
    """Mount the Events API and interactivity endpoints on the aiohttp app."""

    @public  # no console session: Slack's signature is checked here (fail closed)
    async def handle(request: web.Request) -> web.StreamResponse:
        if bolt is None:
            await request.read()
            return web.Response(status=401, text=REFUSED)
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    app.router.add_post(EVENTS_PATH, handle, name="slack_events")
    app.router.add_post(ACTIONS_PATH, handle, name="slack_actions")


class SocketMode:
    """Socket Mode: Slack pushes the same requests over a WebSocket (no public URL)."""

    def __init__(self, bolt: AsyncApp, app_token: str, client: AsyncWebClient) -> None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        if not app_token:
            raise ValueError("slack.mode = socket needs slack.app_token (xapp-...)")
        self.handler = AsyncSocketModeHandler(bolt, app_token, web_client=client)

    async def start(self) -> None:
        await self.handler.connect_async()  # start_async() would never return

    async def stop(self) -> None:
        await self.handler.close_async()
