"""SIGKILL of ``guichet serve`` in the middle of a bounded load of 50 web-chat
visitors, then a restart: every acknowledged message is stored once, and answered
(a bot reply or a handoff) exactly once.  Loopback only, bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.server import GuichetServer

pytestmark = pytest.mark.e2e

VISITORS = 50
MESSAGES_EACH = 4
QUESTIONS = [
    "How do I reset my password?",
    "Where can I download my invoices?",
    "I want to talk to a person",
    "Comment changer mon adresse e-mail ?",
    "Do you ship to Belgium?",
    "hello",
]


async def visitor(base_url: str, n: int, acked: list[tuple[str, int]], stop: asyncio.Event) -> None:
    """Send messages one after another, each after the previous one's ack."""
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{base_url}/chat/ws") as ws:
            await ws.send_json({"type": "hello", "token": None, "lang": "en"})
            async with asyncio.timeout(30):
                while (await ws.receive_json())["type"] != "welcome":
                    pass
            for i in range(MESSAGES_EACH):
                if stop.is_set():
                    return
                client_id = f"v{n}-{i}"
                text = QUESTIONS[(n + i) % len(QUESTIONS)]
                await ws.send_json({"type": "message", "id": client_id, "text": text})
                async with asyncio.timeout(30):
                    while True:
                        frame = await ws.receive_json()
                        if frame["type"] == "ack" and frame["id"] == client_id:
                            acked.append((client_id, frame["message_id"]))
                            break
    except (aiohttp.ClientError, ConnectionError, TypeError, ValueError, TimeoutError):
        return  # the server was killed under us: what was acked is what counts


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_sigkill_under_load_then_restart_answers_every_acked_message_once(tmp_path: Path) -> None:
    server = GuichetServer(tmp_path, embedder="hash", GUICHET_JOBS_LEASE_SECONDS="2")
    server.start()
    acked: list[tuple[str, int]] = []
    stop = asyncio.Event()
    try:
        tasks = [asyncio.create_task(visitor(server.base_url, n, acked, stop)) for n in range(VISITORS)]
        async with asyncio.timeout(60):
            while len(acked) < VISITORS * MESSAGES_EACH // 2:  # in the middle of the load
                await asyncio.sleep(0.005)
        server.kill()
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        server.kill()
    assert len(acked) >= VISITORS * MESSAGES_EACH // 2
    db = server.workdir / "data" / "guichet.db"
    in_flight = query(db, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0][0]
    unrouted = query(db, "SELECT count(*) FROM messages WHERE direction = 'in' AND meta NOT LIKE '%routed%'")
    print(f"killed with {len(acked)} acked, {in_flight} jobs in flight, {unrouted[0][0]} messages unrouted")

    server.start()  # second life: it resumes from the job rows
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = query(db, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0][0]
            if pending == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        server.stop()

    stored = query(db, "SELECT id, external_id, meta FROM messages WHERE direction = 'in'")
    inbound = {row[0]: row for row in stored}
    for _client_id, message_id in acked:
        assert message_id in inbound, f"acked message {message_id} was lost"
    externals = [row[1] for row in inbound.values()]
    assert len(externals) == len(set(externals)), "a message was stored twice"

    replies: dict[int, int] = {}
    for (meta_text,) in query(db, "SELECT meta FROM messages WHERE author_kind = 'bot' AND kind = 'message'"):
        reply_to = json.loads(meta_text).get("reply_to")
        if reply_to is not None:
            replies[reply_to] = replies.get(reply_to, 0) + 1
    for message_id, _external, meta_text in inbound.values():
        meta = json.loads(meta_text)
        assert meta.get("routed"), f"message {message_id} was never routed"
        expected = 0 if meta["action"] == "none" else 1
        assert replies.get(message_id, 0) == expected, (message_id, meta, replies.get(message_id))
    tickets = query(db, "SELECT conversation_id, count(*) FROM tickets GROUP BY conversation_id")
    assert all(count == 1 for _conv, count in tickets), "a handoff opened two tickets"
    assert query(db, "SELECT status, count(*) FROM jobs WHERE status NOT IN ('done') GROUP BY status") == []
    undelivered = "SELECT id, delivery FROM messages WHERE delivery IN ('queued', 'sending', 'failed')"
    assert query(db, undelivered) == []
