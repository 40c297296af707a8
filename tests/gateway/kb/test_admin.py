"""KBAdmin: editing and uploading sources safely, single-flight re-index with
progress events, the retriever switching at once, rollback."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.flow.bus import InProcessEventBus
from gateway.kb.admin import KBAdmin
from gateway.protocols import Event
from kb_index.embedder import HashEmbedder
from kb_index.retriever import KBRetriever
from kb_index.versions import current_version
from tests.kb_index.conftest import write_kb


class SlowEmbedder(HashEmbedder):
    """Counts encode calls; each batch can be made to take a while."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(256)
        self.delay = delay
        self.calls = 0
        self.threads: set[str] = set()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        return super().encode(texts)


class Setup:
    def __init__(self, root: Path, embedder: HashEmbedder) -> None:
        self.kb = write_kb(root / "kb")
        self.index = root / "index"
        self.bus = InProcessEventBus()
        self.events = self.bus.subscribe("kb.")
        self.retriever = KBRetriever(self.index, embedder)
        self.admin = KBAdmin(self.kb, self.index, embedder, bus=self.bus, retriever=self.retriever,
                             batch_size=2)

    async def drain(self) -> list[Event]:
        await asyncio.sleep(0)
        out = []
        while not self.events.queue.empty():
            event = self.events.queue.get_nowait()
            if event is not None:
                out.append(event)
        return out


@pytest.fixture
async def kb(tmp_path: Path) -> AsyncIterator[Setup]:
    setup = Setup(tmp_path, SlowEmbedder())
    yield setup
    await setup.admin.aclose()
    setup.retriever.close()


# ---------------------------------------------------------------- articles


async def test_a_new_article_is_written_as_markdown_with_toml(kb: Setup) -> None:
    saved = kb.admin.save_article(
        "opening-hours", "  Opening\nhours ", "fr-FR", "support, hours ,support",
        'We answer from 9 to 18.\r\nQuote: "+++"\n', questions=["When are you open?", ""])
    assert (saved.id, saved.path, saved.created) == ("opening-hours", "opening-hours.md", True)
    text = (kb.kb / "opening-hours.md").read_text("utf-8")
    meta = tomllib.loads(text.split("+++")[1])
    assert meta == {"id": "opening-hours", "title": "Opening hours", "lang": "fr",
                    "tags": ["support", "hours"], "questions": ["When are you open?"]}
    detail = kb.admin.get_article("opening-hours")
    assert detail.body == 'We answer from 9 to 18.\nQuote: "+++"'
    assert detail.editable and detail.deletable and detail.format == "markdown"
    assert "opening-hours" in {a.id for a in kb.admin.list_articles()}
    assert not [p for p in kb.kb.iterdir() if p.name.startswith(".")]  # no temporary file left


async def test_editing_rewrites_the_file_that_holds_the_article(kb: Setup) -> None:
    saved = kb.admin.save_article("refunds", "Refunds", "en", ["billing"], "Refunds take 5 days.")
    assert (saved.path, saved.created) == ("refunds.md", False)  # the YAML file, now TOML
    assert kb.admin.get_article("refunds").body == "Refunds take 5 days."
    with pytest.raises(ConflictError, match="already exists"):
        kb.admin.save_article("refunds", "Again", "en", [], "x", create=True)


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "..", "Upper", "", "-x", "x-", "a.b", "é", "x" * 101])
async def test_ids_that_are_not_slugs_are_refused(kb: Setup, bad_id: str) -> None:
    with pytest.raises(InvalidInputError, match="id must be"):
        kb.admin.save_article(bad_id, "Title", "en", [], "Body")
    assert not (kb.kb.parent / "escape.md").exists()


@pytest.mark.parametrize(
    ("title", "lang", "body", "reason"),
    [("", "en", "Body", "title is required"), ("T" * 201, "en", "Body", "title is required"),
     ("Title", "english", "Body", "not a language code"), ("Title", "en", "  \n ", "body is required")],
)
async def test_invalid_fields_are_refused(kb: Setup, title: str, lang: str, body: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        kb.admin.save_article("fine-id", title, lang, [], body)
    assert not (kb.kb / "fine-id.md").exists()


async def test_faq_entries_are_not_rewritten_nor_deleted(kb: Setup) -> None:
    with pytest.raises(ConflictError, match=r"faq\.csv"):
        kb.admin.save_article("shipping", "Shipping", "en", [], "Free.")
    with pytest.raises(ConflictError, match="edit that table"):
        kb.admin.delete_article("shipping")
    with pytest.raises(NotFoundError):
        kb.admin.delete_article("nope")
    assert kb.admin.delete_article("password-reset") == "account/reset.md"
    assert not (kb.kb / "account" / "reset.md").exists()


async def test_a_symlink_out_of_the_kb_is_never_written(kb: Setup, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text('+++\nid = "outside"\ntitle = "Outside"\n+++\nSecret.\n', "utf-8")
    (kb.kb / "link.md").symlink_to(outside)
    with pytest.raises(InvalidInputError, match="outside the knowledge-base directory"):
        kb.admin.save_article("outside", "Changed", "en", [], "Overwritten?")
    with pytest.raises(InvalidInputError):
        kb.admin.delete_article("outside")
    assert "Secret." in outside.read_text("utf-8")


# ----------------------------------------------------------------- uploads


async def test_uploads_are_kept_only_when_they_parse(kb: Setup) -> None:
    good = b"<html lang='en'><title>Gift cards</title><main><p>Gift cards never expire.</p></main></html>"
    result = kb.admin.upload("C:\\Users\\me\\gift-cards.html", good)
    assert (result.filename, result.articles, result.replaced) == ("gift-cards.html", ("gift-cards",), False)
    assert (kb.kb / "gift-cards.html").read_bytes() == good
    assert kb.admin.upload("../../gift-cards.html", good).replaced  # same name again: replaced in place

    with pytest.raises(InvalidInputError, match="bad TOML front matter"):
        kb.admin.upload("broken.md", b'+++\nid = "x\n+++\nbody\n')
    with pytest.raises(InvalidInputError, match="line 1: invalid JSON"):
        kb.admin.upload("faq2.jsonl", b'{"id": "x", "question": "q?"\n')
    with pytest.raises(InvalidInputError, match="expected a plain file name"):
        kb.admin.upload("slides.pdf", b"%PDF-1.4")
    with pytest.raises(InvalidInputError, match="expected a plain file name"):
        kb.admin.upload(".hidden.md", b"x")
    with pytest.raises(ConflictError, match=re.escape("'refunds' (in refunds.md)")):
        kb.admin.upload("dup.md", b'+++\nid = "refunds"\ntitle = "Refunds"\n+++\nAnother refunds article.')
    small = KBAdmin(kb.kb, kb.index, HashEmbedder(256), max_upload_bytes=10)
    with pytest.raises(InvalidInputError, match="1 to 10 bytes"):
        small.upload("big.txt", b"Title\n" + b"x" * 20)
    names = {p.name for p in kb.kb.iterdir()}
    assert not names & {"broken.md", "faq2.jsonl", "slides.pdf", ".hidden.md", "dup.md", "big.txt"}


# ---------------------------------------------------------------- re-index


async def test_reindex_publishes_progress_and_switches_the_retriever(kb: Setup) -> None:
    assert kb.retriever.version == ""
    report = await kb.admin.reindex()
    assert kb.retriever.version == report.version == current_version(kb.index)  # no reloader wait
    events = await kb.drain()
    progress = [e.data for e in events if e.topic == "kb.progress"]
    assert progress[0] == {"done": 0, "total": 0, "stage": "starting", "version": report.version}
    stages = [p["stage"] for p in progress]
    assert stages[:2] == ["starting", "loading"] and stages[-2:] == ["writing", "done"]
    assert {p["version"] for p in progress} == {report.version}
    embedding = [p["done"] for p in progress if p["stage"] == "embedding"]
    assert embedding == sorted(embedding) and embedding[-1] == report.chunk_count
    assert events[-1].topic == "kb.indexed"
    assert events[-1].data["version"] == report.version and events[-1].data["embedded"] == report.chunk_count
    status = kb.admin.status()
    assert (status.running, status.stage, status.done, status.total) == (False, "done", report.chunk_count,
                                                                         report.chunk_count)


async def test_a_second_request_joins_the_running_build(tmp_path: Path) -> None:
    embedder = SlowEmbedder(delay=0.05)
    setup = Setup(tmp_path, embedder)
    try:
        assert setup.admin.start_reindex() is True
        assert setup.admin.start_reindex() is False  # joined, not a second build
        first, second = await asyncio.gather(setup.admin.reindex(), setup.admin.reindex())
        assert first is second
        assert len(setup.admin.versions()) == 1
        assert "MainThread" not in embedder.threads  # encoded in the worker thread
    finally:
        await setup.admin.aclose()
        setup.retriever.close()


async def test_the_event_loop_keeps_serving_during_a_build(tmp_path: Path) -> None:
    setup = Setup(tmp_path, SlowEmbedder(delay=0.2))
    try:
        build = asyncio.create_task(setup.admin.reindex())
        ticks, worst, last = 0, 0.0, time.monotonic()
        while not build.done():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            worst, last, ticks = max(worst, now - last), now, ticks + 1
        await build
        assert ticks >= 20 and worst < 0.15  # never blocked for a whole 200 ms batch
    finally:
        await setup.admin.aclose()
        setup.retriever.close()


async def test_a_failed_build_is_reported_and_changes_nothing(kb: Setup) -> None:
    live = (await kb.admin.reindex()).version
    await kb.drain()
    (kb.kb / "refunds.md").unlink()
    for p in sorted(kb.kb.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    kb.kb.rmdir()
    with pytest.raises(FileNotFoundError):
        await kb.admin.reindex()
    assert current_version(kb.index) == live and kb.retriever.version == live
    status = kb.admin.status()
    assert status.stage == "failed" and "knowledge-base directory not found" in status.error
    failed = [e.data for e in await kb.drain() if e.data.get("stage") == "failed"]
    assert failed and "not found" in failed[0]["error"]


async def test_closing_cancels_a_running_build(tmp_path: Path) -> None:
    setup = Setup(tmp_path, SlowEmbedder(delay=0.05))
    setup.admin.start_reindex()
    await asyncio.sleep(0.08)
    started = time.monotonic()
    await setup.admin.aclose()
    assert time.monotonic() - started < 1.0
    assert current_version(setup.index) is None and setup.admin.status().stage == "failed"
    with pytest.raises(ConflictError, match="shutting down"):
        setup.admin.start_reindex()
    setup.retriever.close()


# ---------------------------------------------------------------- rollback


async def test_rollback_serves_the_old_version_at_once(kb: Setup) -> None:
    old = (await kb.admin.reindex()).version
    kb.admin.save_article("refunds", "Refunds for yearly plans", "en", [], "Refunds go to a store voucher.")
    new = (await kb.admin.reindex()).version
    assert "store voucher" in (await kb.retriever.search("refunds yearly plans")).hits[0].answer
    await kb.drain()
    info = await kb.admin.rollback(old)
    assert info.version == old and info.current
    assert kb.retriever.version == old == current_version(kb.index)
    result = await kb.retriever.search("refunds yearly plans")
    assert result.index_version == old and "refunded in full" in result.hits[0].answer
    assert [(e.topic, e.data) for e in await kb.drain()] == [("kb.activated", {"version": old})]
    assert [v.current for v in kb.admin.versions()] == [False, True]  # newest first
    await kb.admin.rollback(new)
    assert kb.retriever.version == new


async def test_rollback_refusals(kb: Setup, tmp_path: Path) -> None:
    await kb.admin.reindex()
    with pytest.raises(NotFoundError):
        await kb.admin.rollback("20990101-000000-000000")
    other = KBAdmin(kb.kb, kb.index, HashEmbedder(64))  # a different model than the index's
    with pytest.raises(ConflictError, match="was built with hash-256"):
        await other.rollback(kb.admin.versions()[0].version)
    await other.aclose()
    slow = Setup(tmp_path / "slow", SlowEmbedder(delay=0.05))
    try:
        slow.admin.start_reindex()
        with pytest.raises(ConflictError, match="re-index is running"):
            await slow.admin.rollback("anything")
        await slow.admin.reindex()
    finally:
        await slow.admin.aclose()
        slow.retriever.close()


async def test_queries_during_a_reindex_never_fail_and_never_mix_versions(tmp_path: Path) -> None:
    """Acceptance: a load of queries while re-indexing; every answer comes whole
    from the old version or the new one (bounded: 40 workers, at most 5 s)."""
    setup = Setup(tmp_path, SlowEmbedder(delay=0.02))
    try:
        old = (await setup.admin.reindex()).version
        setup.admin.save_article("refunds", "Refunds for yearly plans", "en", [],
                                 "Refunds go to a store voucher within 14 days.")
        expected = {old: "refunded in full", "": ""}
        results: list[tuple[str, str]] = []
        failures: list[str] = []
        build = asyncio.create_task(setup.admin.reindex())

        async def ask() -> None:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                was_done = build.done()
                try:
                    result = await setup.retriever.search("refunds for yearly plans", k=3)
                    results.append((result.index_version, result.hits[0].answer))
                except Exception as exc:
                    failures.append(repr(exc))
                if was_done:  # one more query after the switch, then stop
                    return

        await asyncio.gather(*(ask() for _ in range(40)))
        new = (await build).version
        expected[new] = "store voucher"
        assert failures == []
        assert {version for version, _ in results} == {old, new} and len(results) >= 80
        for version, answer in results:
            assert expected[version] in answer, (version, answer)
        after = await setup.retriever.search("refunds for yearly plans")
        assert after.index_version == new and "store voucher" in after.hits[0].answer
    finally:
        await setup.admin.aclose()
        setup.retriever.close()
