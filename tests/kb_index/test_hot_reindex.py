"""Re-indexing while serving under load (issue 3, acceptance 3).

A load of concurrent queries runs while new index versions are built and swapped
in: no query fails, every answer comes from exactly one version (the old or the
new), never a mix.  The versions are told apart by a marker that changes in one
article's title and body ("edition N") and by an article present only in odd
editions.  Once against ``KBRetriever`` directly, once through the whole gateway
(visitors on the WebSocket while the server's reloader swaps versions).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.protocols import SearchResult
from gateway.web.keys import RETRIEVER
from kb_index import KBRetriever, build_index, current_version, make_embedder
from kb_index.embedder import HashEmbedder

STATIC_ID, CHANGING_ID, ODD_ID = "password-reset", "refund-policy", "gift-cards"
EDITIONS = 4  # edition 0 is live before the load starts, 1..3 are swapped in under load
CALLERS = 8
MAX_QUERIES_PER_CALLER = 3000  # a bound, never reached in a passing run
QUERIES = (
    "How do I get a refund?",
    "refund policy for yearly plans",
    "I forgot my password",
    "reset password link",
    "can I buy a gift card",
)
EDITION = re.compile(r"edition (\d+)")

STATIC_MD = """+++
id = "password-reset"
title = "Reset your password"
lang = "en"
+++
Click **Forgot password** on the sign-in page; the reset link is valid for one hour.
"""

CHANGING_MD = """+++
id = "refund-policy"
title = "Refund policy, edition {n}"
lang = "en"
+++
Refunds for yearly plans are paid within {days} days. This is edition {n} of the refund policy.
"""

ODD_MD = """+++
id = "gift-cards"
title = "Gift cards"
lang = "en"
+++
Gift cards can be bought in the shop and never expire.
"""


def write_edition(kb: Path, n: int) -> None:
    kb.mkdir(parents=True, exist_ok=True)
    (kb / "password.md").write_text(STATIC_MD, "utf-8")
    (kb / "refunds.md").write_text(CHANGING_MD.format(n=n, days=7 * (n + 1)), "utf-8")
    odd = kb / "gift-cards.md"
    if n % 2:
        odd.write_text(ODD_MD, "utf-8")
    else:
        odd.unlink(missing_ok=True)


def editions_in(text: str) -> set[int]:
    return {int(n) for n in EDITION.findall(text)}


def mixed_version_problems(result: SearchResult, edition: int) -> list[str]:
    """Everything in one search result that does not belong to ``edition``."""
    problems = []
    ids = [h.article_id for h in result.hits]
    if ODD_ID in ids and edition % 2 == 0:
        problems.append(f"{ODD_ID} answered from edition {edition}, which lacks it")
    for hit in result.hits:
        if hit.article_id != CHANGING_ID:
            continue
        for field, text in (("title", hit.title), ("answer", hit.answer), ("matched", hit.matched)):
            if editions_in(text) != {edition}:
                problems.append(f"{field} {text!r} is not from edition {edition}")
    return problems


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
    assert predicate(), what


async def test_queries_under_load_never_fail_and_never_mix_versions(tmp_path: Path) -> None:
    kb, index = tmp_path / "kb", tmp_path / "index"
    embedder = HashEmbedder(256)
    write_edition(kb, 0)
    edition_of = {build_index(kb, index, embedder, progress=False).version: 0}
    retriever = KBRetriever(index, embedder)
    results: list[SearchResult] = []
    failures: list[str] = []
    rebuilt = asyncio.Event()

    async def caller(n: int) -> None:
        extra = 0  # a few more queries once the last version is live
        for i in range(MAX_QUERIES_PER_CALLER):
            if rebuilt.is_set():
                extra += 1
                if extra > 5:
                    return
            try:
                results.append(await retriever.search(QUERIES[(n + i) % len(QUERIES)], k=3))
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

    def answered_from(n: int) -> int:
        return sum(edition_of.get(r.index_version) == n for r in results)

    def answered_enough(n: int) -> bool:
        return answered_from(n) >= CALLERS

    async def rebuild() -> None:
        for n in range(1, EDITIONS):
            await until(functools.partial(answered_enough, n - 1), 30, f"no answer from edition {n - 1}")
            write_edition(kb, n)  # the build below runs while the callers query
            report = await asyncio.to_thread(build_index, kb, index, embedder, progress=False)
            edition_of[report.version] = n
            assert current_version(index) == report.version
            assert await retriever.reload_if_changed()
        await until(functools.partial(answered_enough, EDITIONS - 1), 30, "no answer from the last edition")
        rebuilt.set()

    try:
        async with asyncio.timeout(120):
            await asyncio.gather(rebuild(), *(caller(n) for n in range(CALLERS)))
    finally:
        retriever.close()

    assert failures == []
    assert all(r.hits for r in results), "a query got no hit"
    assert {r.index_version for r in results} <= set(edition_of)
    problems = [p for r in results for p in mixed_version_problems(r, edition_of[r.index_version])]
    assert problems == []
    answered_by = Counter(edition_of[r.index_version] for r in results)
    assert set(answered_by) == set(range(EDITIONS)), answered_by  # every edition served
    assert any(CHANGING_ID in [h.article_id for h in r.hits] for r in results)
    assert any(ODD_ID in [h.article_id for h in r.hits] for r in results)


# ----------------------------------------------------------- through the gateway


async def ask_one_question(client: TestClient[Any, Any], text: str) -> list[dict[str, Any]]:
    """A new visitor asks one question; returns every frame until the bot replied."""
    frames: list[dict[str, Any]] = []
    async with client.ws_connect("/chat/ws") as ws:
        await ws.send_json({"type": "hello", "token": None, "lang": "en"})
        frames.append(await ws.receive_json(timeout=20))
        await ws.send_json({"type": "message", "id": "q-1", "text": text})
        while not any(f["type"] == "error" or (f["type"] == "message" and
                      f["message"]["author"] == "bot") for f in frames):
            msg = await ws.receive(timeout=20)
            assert msg.type is aiohttp.WSMsgType.TEXT, f"socket ended: {msg}"
            frames.append(json.loads(msg.data))
    return frames


async def test_visitors_get_replies_while_the_server_swaps_index_versions(
    aiohttp_client: Any, settings: Settings, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    write_edition(kb, 0)
    settings.kb.source_dir = str(kb)
    settings.kb.reload_interval = 0.05
    settings.bot.answer_threshold = 0.0  # answer every question, so each reply shows its edition
    embedder = make_embedder(settings.kb.embedder)
    build_index(kb, settings.index_path, embedder, progress=False)
    app = create_app(settings)
    client = await aiohttp_client(app)
    served = app[RETRIEVER]
    conversations: list[list[dict[str, Any]]] = []
    replies_from: Counter[int] = Counter()
    rebuilt = asyncio.Event()

    async def visitor(n: int) -> None:
        extra = 0
        for i in range(200):
            if rebuilt.is_set():
                extra += 1
                if extra > 2:
                    return
            frames = await ask_one_question(client, QUERIES[(n + i) % 2])  # refund questions
            conversations.append(frames)
            for f in frames:
                if f["type"] == "message" and f["message"]["author"] == "bot":
                    replies_from.update(editions_in(f["message"]["text"]))

    def replied_from(n: int) -> bool:
        return replies_from[n] >= 2

    def serving(version: str) -> bool:
        return bool(getattr(served, "version", "") == version)

    async def rebuild() -> None:
        for n in range(1, EDITIONS):
            await until(functools.partial(replied_from, n - 1), 60, f"no reply from edition {n - 1}")
            write_edition(kb, n)
            report = await asyncio.to_thread(build_index, kb, settings.index_path, embedder,
                                             progress=False)
            await until(functools.partial(serving, report.version), 30,
                        "the server's reloader did not pick up the new version")
        await until(functools.partial(replied_from, EDITIONS - 1), 60, "no reply from the last edition")
        rebuilt.set()

    async with asyncio.timeout(180):
        await asyncio.gather(rebuild(), *(visitor(n) for n in range(6)))

    errors = [f for frames in conversations for f in frames if f["type"] == "error"]
    assert errors == []
    for frames in conversations:
        kinds = [f["type"] for f in frames]
        assert kinds[0] == "welcome" and "ack" in kinds, kinds
        bot = [f["message"]["text"] for f in frames if f["type"] == "message"
               and f["message"]["author"] == "bot"]
        assert bot, f"no bot reply in {kinds}"
        assert len(editions_in(bot[-1])) <= 1, f"a reply mixes editions: {bot[-1]!r}"
    assert set(replies_from) == set(range(EDITIONS)), replies_from
