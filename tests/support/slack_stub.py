"""A local stand-in for Slack, started by the tests on loopback.

- :class:`SlackStub` answers the Web API methods the Slack channel calls
  (``auth.test``, ``users.info``, ``chat.postMessage``, ``chat.update``,
  ``chat.postEphemeral``, ``reactions.add``, ``conversations.open``,
  ``conversations.replies``, ``conversations.history``) the way Slack documents
  them, records every call, checks the bot token, and can answer ``429`` with a
  ``Retry-After`` header (:meth:`SlackStub.rate_limit`).  The real ``slack-sdk``
  ``AsyncWebClient`` talks to it with ``base_url=stub.base_url``.
- Socket Mode: ``apps.connections.open`` (with the app token) gives a WebSocket URL on
  the stand-in, which says ``hello``, sends envelopes (:meth:`SlackStub.push`) and
  records their acknowledgements.
- Signed Events API and interactivity requests: :mod:`tests.support.slack_requests`.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"  # Socket Mode's app-level token
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0TEAM"
BOT_USER = "U0GUICHET"
BOT_ID = "B0GUICHET"
APP_ID = "A0GUICHET"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the stand-in received it


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    thread_ts: str | None
    blocks: list[Any] | None
    username: str | None
    metadata: dict[str, Any] | None
    user: str = BOT_USER


@dataclass
class SlackStub:
    token: str = BOT_TOKEN
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> users.info "user"
    calls: list[Call] = field(default_factory=list)
    messages: list[Posted] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[Posted] = field(default_factory=list)  # removed with chat.delete
    ephemeral: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)  # Socket Mode connections
    acks: list[dict[str, Any]] = field(default_factory=list)  # envelopes acknowledged over them
    _limits: dict[str, list[float]] = field(default_factory=dict)  # method -> Retry-After of next 429s
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> SlackStub:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # ------------------------------------------------------------- controls
    def rate_limit(self, method: str, *retry_after: float) -> None:
        """The next ``len(retry_after)`` calls of ``method`` get 429 with these waits."""
        self._limits.setdefault(method, []).extend(retry_after)

    def clear_limits(self) -> None:
        """Slack accepts every call again."""
        self._limits.clear()

    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": name.lower(),
            "real_name": name,
            "is_bot": is_bot,
            "profile": {"display_name": name, "real_name": name},
        }

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def posted(self, channel: str | None = None, thread_ts: str | None = None) -> list[Posted]:
        return [
            m
            for m in self.messages
            if (channel is None or m.channel == channel) and (thread_ts is None or m.thread_ts == thread_ts)
        ]

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    # ------------------------------------------------------------- the API
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        self.calls.append(Call(method, params))
        token = self.token if method != "apps.connections.open" else APP_TOKEN
        if request.headers.get("Authorization") != f"Bearer {token}" and params.get("token") != token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        waits = self._limits.get(method)
        if waits:
            wait = waits.pop(0)
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": f"{wait:g}"}
            )
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(handler(params))

    def api_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    # ------------------------------------------------------------- Socket Mode
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": APP_ID},
                "debug_info": {"host": "stub", "approximate_connection_time": 3600},
            }
        )
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(frame.data)
                if "envelope_id" in data:
                    self.acks.append(data)
        return ws

    async def push(self, payload: dict[str, Any], *, kind: str = "events_api", retry_attempt: int = 0) -> str:
        """Send one Socket Mode envelope to the newest connection; returns its id."""
        envelope_id = f"env-{next(self._ts)}"
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )
        return envelope_id

    def api_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "guichet",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def api_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(p.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def api_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = str(p.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}

    def api_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        metadata = p.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        blocks = p.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        msg = Posted(
            str(p["channel"]),
            self.next_ts(),
            str(p.get("text", "")),
            p.get("thread_ts"),
            blocks,
            p.get("username"),
            metadata,
        )
        self.messages.append(msg)
        return {
            "ok": True,
            "channel": msg.channel,
            "ts": msg.ts,
            "message": {"type": "message", "text": msg.text, "ts": msg.ts, "bot_id": BOT_ID},
        }

    def api_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        for msg in self.messages:
            if msg.channel == p.get("channel") and msg.ts == p.get("ts"):
                msg.text = str(p.get("text", msg.text))
                blocks = p.get("blocks")
                msg.blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
                self.updates.append(p)
                return {"ok": True, "channel": msg.channel, "ts": msg.ts, "text": msg.text}
        return {"ok": False, "error": "message_not_found"}

    def api_chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        for msg in self.messages:
            if msg.channel == p.get("channel") and msg.ts == p.get("ts"):
                self.messages.remove(msg)
                self.deleted.append(msg)
                return {"ok": True, "channel": msg.channel, "ts": msg.ts}
        return {"ok": False, "error": "message_not_found"}

    def api_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        self.ephemeral.append(p)
        return {"ok": True, "message_ts": self.next_ts()}

    def api_reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        self.reactions.append(p)
        return {"ok": True}

    def _as_message(self, m: Posted, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "ts": m.ts,
            "text": m.text,
            "bot_id": BOT_ID,
            "user": m.user,
        }
        if m.thread_ts:
            out["thread_ts"] = m.thread_ts
        if with_metadata and m.metadata:
            out["metadata"] = m.metadata
        return out

    def api_conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        root = str(p.get("ts"))
        meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            self._as_message(m, meta)
            for m in self.messages
            if m.channel == p.get("channel") and (m.ts == root or m.thread_ts == root)
        ]
        return {"ok": True, "messages": found, "has_more": False}

    def api_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            self._as_message(m, meta)
            for m in reversed(self.messages)
            if m.channel == p.get("channel") and not m.thread_ts
        ]
        return {"ok": True, "messages": found, "has_more": False}
