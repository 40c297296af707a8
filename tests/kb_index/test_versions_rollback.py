"""Incremental rebuilds, progress reporting, the version list and rollback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from kb_index.chunking import chunk_articles
from kb_index.embedder import HashEmbedder
from kb_index.retriever import KBRetriever
from kb_index.sources import load_sources
from kb_index.versions import (
    activate,
    build_index,
    current_version,
    list_versions,
    next_version_name,
    prune_versions,
    version_names,
)

REFUNDS_V2 = """---
id: refunds
title: Refunds for yearly plans
lang: en
---

Yearly plans are refunded through a store credit voucher, never to the card.
"""


class SpyEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(256)
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode(texts)


def test_a_rebuild_embeds_only_the_changed_article(kb_dir: Path, tmp_path: Path) -> None:
    index, spy = tmp_path / "index", SpyEmbedder()
    first = build_index(kb_dir, index, spy, progress=False)
    assert first.embedded == first.chunk_count and first.reused == 0

    spy.encoded.clear()
    same = build_index(kb_dir, index, spy, progress=False)
    assert spy.encoded == [] and same.reused == same.chunk_count and same.embedded == 0

    (kb_dir / "refunds.md").write_text(REFUNDS_V2, "utf-8")
    spy.encoded.clear()
    changed = build_index(kb_dir, index, spy, progress=False)
    refunds = next(a for a in load_sources(kb_dir).articles if a.id == "refunds")
    new_passages = {c.text for c in chunk_articles([refunds]) if c.kind == "passage"}
    assert set(spy.encoded) == new_passages  # the unchanged title was reused too
    assert changed.embedded == len(new_passages)
    assert changed.reused == changed.chunk_count - changed.embedded


def test_cached_vectors_give_the_same_answers(kb_dir: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder(256)
    fresh = build_index(kb_dir, tmp_path / "a", embedder, progress=False, cache=False)
    build_index(kb_dir, tmp_path / "b", embedder, progress=False)
    cached = build_index(kb_dir, tmp_path / "b", embedder, progress=False)
    assert cached.reused == fresh.chunk_count
    for index_dir in (tmp_path / "a", tmp_path / "b"):
        retriever = KBRetriever(index_dir, embedder)
        try:
            assert retriever.search_sync("refund of a yearly plan").hits[0].article_id == "refunds"
        finally:
            retriever.close()


def test_progress_callback_sequence(kb_dir: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    report = build_index(kb_dir, tmp_path / "index", HashEmbedder(256), progress=False, batch_size=3,
                         on_progress=lambda d, t, s: calls.append((d, t, s)))
    total = report.chunk_count
    assert calls[0] == (0, 0, "loading")
    embedding = [c for c in calls if c[2] == "embedding"]
    assert embedding[0] == (0, total, "embedding")  # after the (empty) cache lookup
    assert [d for d, _, _ in embedding] == sorted(d for d, _, _ in embedding)
    assert embedding[-1] == (total, total, "embedding")
    assert len(embedding) == 1 + -(-total // 3)  # one per batch of 3
    assert calls[-2:] == [(total, total, "writing"), (total, total, "done")]


def test_a_failing_callback_aborts_without_touching_the_live_version(
    kb_dir: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    live = build_index(kb_dir, index, HashEmbedder(256), progress=False).version

    def cancel(done: int, total: int, stage: str) -> None:
        if stage == "embedding":
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        build_index(kb_dir, index, HashEmbedder(256), progress=False, on_progress=cancel, cache=False)
    assert current_version(index) == live and version_names(index) == [live]
    assert not list((index / "versions").glob(".tmp-*"))


def test_version_list_describes_each_kept_version(kb_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    old = build_index(kb_dir, index, HashEmbedder(256), progress=False)
    (kb_dir / "faq.csv").unlink()
    new = build_index(kb_dir, index, HashEmbedder(256), progress=False, version=next_version_name(index))
    infos = list_versions(index)
    assert [i.version for i in infos] == [new.version, old.version]  # newest first
    assert [i.current for i in infos] == [True, False]
    assert [i.articles for i in infos] == [3, 4]
    assert infos[1].chunks == old.chunk_count and infos[1].embedder == "hash-256"
    assert infos[0].created_at


def test_rollback_switches_current_and_the_retriever_answers_from_the_old_version(
    kb_dir: Path, tmp_path: Path
) -> None:
    index, embedder = tmp_path / "index", HashEmbedder(256)
    old = build_index(kb_dir, index, embedder, progress=False).version
    (kb_dir / "refunds.md").write_text(REFUNDS_V2, "utf-8")
    new = build_index(kb_dir, index, embedder, progress=False).version
    retriever = KBRetriever(index, embedder)
    try:
        assert "store credit voucher" in retriever.search_sync("refunds yearly plan").hits[0].answer
        activate(index, old)
        assert current_version(index) == old
        assert asyncio.run(retriever.reload_if_changed())
        result = retriever.search_sync("refunds yearly plan")
        assert result.index_version == old
        assert "refunded in full within 14 days" in result.hits[0].answer
        activate(index, new)  # and forward again
        assert current_version(index) == new
    finally:
        retriever.close()


def test_activate_refuses_unknown_versions_and_prune_spares_the_rolled_back_one(
    kb_dir: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    first = build_index(kb_dir, index, HashEmbedder(256), progress=False).version
    with pytest.raises(FileNotFoundError):
        activate(index, "20990101-000000-000000")
    with pytest.raises(FileNotFoundError):
        activate(index, "../../etc")
    second = build_index(kb_dir, index, HashEmbedder(256), progress=False).version
    third = build_index(kb_dir, index, HashEmbedder(256), progress=False).version
    activate(index, first)
    assert prune_versions(index, keep=1) == [second]  # the rolled-back live one stays
    assert version_names(index) == [first, third]
