"""Requests as Slack sends them, for tests: :func:`sign` and :class:`SlackSender`
send Events API and interactivity requests to the application signed as Slack signs
them (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret, in
``X-Slack-Signature``; the timestamp in ``X-Slack-Request-Timestamp``), and the
builders make the events and payloads (a DM, a channel message, a pressed button).
The Web API side is :mod:`tests.support.slack_stub`."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.support.slack_stub import APP_ID, BOT_ID, BOT_USER, SIGNING_SECRET, TEAM

# ------------------------------------------------------------------ signing


def sign(secret: str, timestamp: int, body: str) -> str:
    """Slack's request signature: ``v0=`` hex HMAC-SHA256 of ``v0:{ts}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackSender:
    """Sends signed Events API and interactivity requests to the application."""

    base: str  # the application's URL, e.g. http://127.0.0.1:PORT
    secret: str = SIGNING_SECRET
    _events: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def headers(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        content_type: str = "application/json",
    ) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(self.secret if secret is None else secret, ts, body),
        }

    def envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token-unused",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._events):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }

    async def post(self, path: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.base + path, data=body.encode(), headers=headers) as resp,
        ):
            return resp.status, await resp.text()

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[int, str]:
        body = json.dumps(self.envelope(event, event_id=event_id))
        headers = self.headers(body, timestamp=timestamp, secret=secret)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.post("/slack/events", body, headers)

    async def action(
        self, payload: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        headers = self.headers(
            body, timestamp=timestamp, secret=secret, content_type="application/x-www-form-urlencoded"
        )
        return await self.post("/slack/actions", body, headers)


def dm(
    user: str, text: str, ts: str, *, channel: str | None = None, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A ``message`` event in a direct message with the app (``message.im``)."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel or "D" + user[1:],
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": TEAM,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def channel_message(
    user: str, text: str, ts: str, channel: str, *, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A ``message`` event in a public channel (``message.channels``)."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": TEAM,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def block_action(
    user: str,
    action_id: str,
    value: str,
    *,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    action_ts: str | None = None,
) -> dict[str, Any]:
    """An interactivity payload: a button pressed in a message."""
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "bot_id": BOT_ID, "text": ""}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": APP_ID,
        "token": "legacy",
        "trigger_id": f"trig-{message_ts}-{user}",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
            **({"thread_ts": thread_ts} if thread_ts else {}),
        },
        "channel": {"id": channel},
        "message": message,
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "guichet",
                "value": value,
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


def message_shortcut(
    user: str, callback_id: str, *, channel: str, ts: str, thread_ts: str | None, author: str, text: str
) -> dict[str, Any]:
    """An interactivity payload: a message shortcut used on one message."""
    message: dict[str, Any] = {"type": "message", "user": author, "ts": ts, "text": text}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "channel": {"id": channel, "name": "ops"},
        "message": message,
        "message_ts": ts,
        "trigger_id": f"trig-{ts}-{user}",
        "response_url": "http://127.0.0.1:9/unused",
        "token": "legacy",
        "action_ts": f"{time.time():.6f}",
    }
