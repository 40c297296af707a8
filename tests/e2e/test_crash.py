"""Nothing acked is ever lost: SIGKILL right after an ack, restart, the message
is in the store and its routing job runs.  And SIGTERM shuts down gracefully."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.server import GuichetServer

pytestmark = pytest.mark.e2e


async def hello(ws: aiohttp.ClientWebSocketResponse, token: str | None) -> dict[str, Any]:
    await ws.send_json({"type": "hello", "token": token, "lang": "en"})
    return await receive(ws, "welcome")


async def receive(ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.receive_json()
            if frame["type"] == kind:
                return frame


def db_rows(server: GuichetServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.workdir / "data" / "guichet.db") as conn:
        return conn.execute(sql).fetchall()


async def test_sigkill_after_ack_loses_nothing_and_routing_resumes(tmp_path: Path) -> None:
    server = GuichetServer(tmp_path, embedder="hash")
    # First life: no job workers, so the routing job is certainly still pending when killed.
    server.start(GUICHET_JOBS_WORKERS="0")
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{server.base_url}/chat/ws") as ws:
            welcome = await hello(ws, None)
            token = welcome["token"]
            await ws.send_json({"type": "message", "id": "c-1", "text": "I want to talk to a person"})
            ack = await receive(ws, "ack")
            server.kill()  # right after the ack
        assert ack["id"] == "c-1" and not ack["duplicate"]
    finally:
        server.kill()

    rows = db_rows(server, "SELECT text FROM messages WHERE direction = 'in'")
    assert rows == [("I want to talk to a person",)]
    assert db_rows(server, "SELECT kind, status FROM jobs") == [("route", "queued")]

    server.start()  # second life: workers on
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{server.base_url}/chat/ws") as ws:
            welcome = await hello(ws, token)
            history = welcome["history"]
            if not any(m["author"] == "bot" for m in history):
                frame = await receive(ws, "message")
                history.append(frame["message"])
            bot = [m for m in history if m["author"] == "bot"]
            assert bot and "ticket number is G-" in bot[0]["text"]
            # The same client id sent again (the client never saw an ack) is not stored twice.
            await ws.send_json({"type": "message", "id": "c-1", "text": "I want to talk to a person"})
            again = await receive(ws, "ack")
            assert again["duplicate"] is True and again["message_id"] == ack["message_id"]
    finally:
        server.stop()
    assert db_rows(server, "SELECT count(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert ("route", "done") in db_rows(server, "SELECT kind, status FROM jobs")


async def test_sigterm_closes_sockets_with_going_away_and_exits_cleanly(tmp_path: Path) -> None:
    server = GuichetServer(tmp_path, embedder="hash").start()
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{server.base_url}/chat/ws") as ws:
            await hello(ws, None)
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            async with asyncio.timeout(30):
                msg = await ws.receive()
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
            assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
            code = await stopping
    finally:
        server.kill()
    assert code == 0
