"""KBRetriever: per-article aggregation, empty index, atomic version swap, no blocking."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np

from gateway.protocols import Retriever
from kb_index.embedder import HashEmbedder
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index


class SlowEmbedder(HashEmbedder):
    """Hash embedder whose encode blocks, like a model on a busy CPU."""

    def __init__(self, delay: float) -> None:
        super().__init__(256)
        self.delay = delay
        self.started = threading.Event()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.started.set()
        time.sleep(self.delay)
        return super().encode(texts)


def _build(kb: Path, index: Path, embedder: HashEmbedder) -> str:
    return build_index(kb, index, embedder, progress=False).version


async def test_hits_are_aggregated_per_article(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    version = _build(kb_dir, tmp_path / "index", embedder)
    retriever = KBRetriever(tmp_path / "index", embedder)
    assert isinstance(retriever, Retriever)
    result = await retriever.search("Is delivery free?", k=5)
    ids = [h.article_id for h in result.hits]
    assert ids[0] == "shipping"
    assert len(ids) == len(set(ids)) == 4  # one hit per article, not per chunk
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    top = result.hits[0]
    assert top.matched == "Is delivery free?"  # the question variant won, max score
    assert top.score > 0.99
    assert top.title == "Shipping costs" and top.answer.startswith("Shipping costs 5 euros")
    assert top.lang == "en" and top.tags == ("shop", "shipping")
    assert result.index_version == version
    assert 0.9 < result.confidence <= 1.0
    assert result.extras["scores"][0] == round(top.score, 4)
    assert len((await retriever.search("Is delivery free?", k=2)).hits) == 2
    retriever.close()


async def test_confidence_is_low_for_unrelated_text(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    _build(kb_dir, tmp_path / "index", embedder)
    retriever = KBRetriever(tmp_path / "index", embedder)
    result = await retriever.search("xyzzy quantum banana")
    assert result.hits and result.confidence < 0.1
    retriever.close()


async def test_no_index_yet_gives_an_empty_result_then_reload_picks_it_up(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    retriever = KBRetriever(tmp_path / "index", embedder)
    result = await retriever.search("Is delivery free?")
    assert result.hits == () and result.confidence == 0.0 and result.index_version == ""
    assert result.extras["status"] == "no_index"
    assert "guichet kb index" in result.extras["detail"]
    assert not await retriever.reload_if_changed()

    version = _build(kb_dir, tmp_path / "index", embedder)
    assert await retriever.reload_if_changed()
    assert not await retriever.reload_if_changed()  # unchanged: no reload
    result = await retriever.search("Is delivery free?")
    assert result.index_version == version and result.top is not None
    retriever.close()


async def test_empty_query(kb_dir: Path, tmp_path: Path, embedder: HashEmbedder) -> None:
    _build(kb_dir, tmp_path / "index", embedder)
    retriever = KBRetriever(tmp_path / "index", embedder)
    result = await retriever.search("   ")
    assert result.hits == () and result.confidence == 0.0
    assert result.extras["status"] == "empty_query"
    retriever.close()


async def test_index_built_with_another_embedder_is_refused_not_mixed(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    _build(kb_dir, tmp_path / "index", embedder)
    retriever = KBRetriever(tmp_path / "index", HashEmbedder(128))
    result = await retriever.search("Is delivery free?")
    assert result.hits == () and result.extras["status"] == "no_index"
    assert "hash-256" in result.extras["detail"] and "rebuild" in result.extras["detail"]
    retriever.close()


async def test_reload_swaps_version_atomically_while_searching(
    kb_dir: Path, tmp_path: Path
) -> None:
    embedder = SlowEmbedder(delay=0.2)
    index = tmp_path / "index"
    old = _build(kb_dir, index, HashEmbedder(256))
    retriever = KBRetriever(index, embedder)

    # the new version has a new article and lacks "shipping"
    (kb_dir / "faq.csv").unlink()
    (kb_dir / "gift.md").write_text("---\nid: gift-cards\ntitle: Gift cards\n---\nYes.\n")
    new = _build(kb_dir, index, HashEmbedder(256))

    in_flight = asyncio.create_task(retriever.search("Is delivery free?"))
    await asyncio.get_running_loop().run_in_executor(None, embedder.started.wait, 5)
    assert await retriever.reload_if_changed()  # swapped while the search runs
    after = await retriever.search("Gift cards")
    before = await in_flight

    assert before.index_version == old
    assert {h.article_id for h in before.hits} == {"password-reset", "refunds", "shipping",
                                                   "livraison"}
    assert after.index_version == new
    assert {h.article_id for h in after.hits} == {"password-reset", "refunds", "livraison",
                                                  "gift-cards"}
    assert after.top is not None and after.top.article_id == "gift-cards"
    retriever.close()


async def test_search_does_not_block_the_event_loop(kb_dir: Path, tmp_path: Path) -> None:
    _build(kb_dir, tmp_path / "index", HashEmbedder(256))
    retriever = KBRetriever(tmp_path / "index", SlowEmbedder(delay=0.3))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await retriever.search("Is delivery free?")
    task.cancel()
    assert ticks >= 10  # the loop kept running during the 0.3 s encode
    retriever.close()


async def test_warm_up_encodes_off_the_loop(tmp_path: Path) -> None:
    embedder = SlowEmbedder(delay=0.05)
    retriever = KBRetriever(tmp_path / "index", embedder)  # no index needed
    await retriever.warm_up()
    assert embedder.started.is_set()
    retriever.close()


def test_search_sync(kb_dir: Path, tmp_path: Path, embedder: HashEmbedder) -> None:
    _build(kb_dir, tmp_path / "index", embedder)
    retriever = KBRetriever(tmp_path / "index", embedder)
    result = retriever.search_sync("Comment suivre mon colis ?", k=1)
    assert [h.article_id for h in result.hits] == ["livraison"]
    assert retriever.version == result.index_version
    retriever.close()
