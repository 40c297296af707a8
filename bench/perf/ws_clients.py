"""WebSocket load clients on loopback: echo clients (raw baseline) and chat visitors
speaking the widget's JSON protocol (``channels/webchat/PROTOCOL.md``).

Each client slot runs a fixed number of conversations, one after the other (a
closed loop): connect, ``hello`` → ``welcome``, one question → ``ack`` and the bot's
reply, close.  One question per conversation keeps every message on the same path
(the bot answers the first question of a new conversation), whatever the policy
does with follow-ups.  The echo client mirrors it frame for frame: connect, the
same ``hello`` frame echoed, the same ``message`` frame echoed, close.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

HELLO = json.dumps({"type": "hello", "token": None, "lang": "en"})


@dataclass
class WebRun:
    """What one load run measured (seconds)."""

    first: list[float] = field(default_factory=list)  # message -> echo / message -> ack
    reply: list[float] = field(default_factory=list)  # message -> bot reply (visitors)
    welcome: list[float] = field(default_factory=list)  # connect + hello -> welcome / echo
    wall: float = 0.0
    completed: int = 0
    errors: list[str] = field(default_factory=list)


class FrameError(Exception):
    """The server answered with something a well-behaved run never gets."""


async def recv_json(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    if msg.type is not aiohttp.WSMsgType.TEXT:
        raise FrameError(f"expected a text frame, got {msg.type.name} {msg.data!r}")
    frame: dict[str, Any] = json.loads(msg.data)
    return frame


def message_frame(client_id: str, text: str) -> str:
    return json.dumps({"type": "message", "id": client_id, "text": text})


Conversation = Callable[[aiohttp.ClientSession, str, str], Awaitable[None]]


async def _run(clients: int, conversations: int, texts: Sequence[str], talk: Conversation,
               run: WebRun) -> WebRun:
    """``clients`` slots, each holding ``conversations`` conversations in turn."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def slot(n: int) -> None:
            for c in range(conversations):
                try:
                    await talk(session, f"c{n}-{c}", texts[(n * conversations + c) % len(texts)])
                except Exception as exc:
                    run.errors.append(f"client {n}: {type(exc).__name__}: {exc}")
                    return

        started = time.perf_counter()
        await asyncio.gather(*(slot(n) for n in range(clients)))
        run.wall = time.perf_counter() - started
    return run


async def run_echo(url: str, clients: int, conversations: int, texts: Sequence[str],
                   timeout: float) -> WebRun:
    run = WebRun()

    async def talk(session: aiohttp.ClientSession, client_id: str, text: str) -> None:
        started = time.perf_counter()
        async with session.ws_connect(url) as ws:
            await ws.send_str(HELLO)
            await recv_json(ws, timeout)
            run.welcome.append(time.perf_counter() - started)
            sent = time.perf_counter()
            await ws.send_str(message_frame(client_id, text))
            frame = await recv_json(ws, timeout)
            if frame.get("id") != client_id:
                raise FrameError(f"echo of {client_id} expected, got {frame}")
            run.first.append(time.perf_counter() - sent)
            run.completed += 1

    return await _run(clients, conversations, texts, talk, run)


async def run_visitors(url: str, visitors: int, conversations: int, texts: Sequence[str],
                       timeout: float) -> WebRun:
    run = WebRun()

    async def talk(session: aiohttp.ClientSession, client_id: str, text: str) -> None:
        started = time.perf_counter()
        async with session.ws_connect(url) as ws:
            await ws.send_str(HELLO)
            welcome = await recv_json(ws, timeout)
            if welcome.get("type") != "welcome":
                raise FrameError(f"welcome expected, got {welcome}")
            run.welcome.append(time.perf_counter() - started)
            await ask(ws, client_id, text, run, timeout)

    return await _run(visitors, conversations, texts, talk, run)


async def ask(ws: aiohttp.ClientWebSocketResponse, client_id: str, text: str, run: WebRun,
              timeout: float) -> None:
    """One question: done when both its ack and the bot's reply arrived (either order)."""
    sent = time.perf_counter()
    await ws.send_str(message_frame(client_id, text))
    acked = replied = False
    while not (acked and replied):
        frame = await recv_json(ws, timeout)
        kind = frame.get("type")
        if kind == "ack" and frame.get("id") == client_id:
            acked = True
            run.first.append(time.perf_counter() - sent)
        elif kind == "message" and frame.get("message", {}).get("author") == "bot":
            replied = True
            run.reply.append(time.perf_counter() - sent)
        elif kind == "error":
            raise FrameError(f"error frame for {client_id}: {frame}")
    run.completed += 1
