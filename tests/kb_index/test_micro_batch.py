"""Micro-batching of concurrent searches: callers that arrive while a batch runs go
together as the next one; each gets its own result; failures and cancellations
stay with the callers they concern."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from kb_index.embedder import HashEmbedder
from kb_index.micro_batch import MicroBatcher
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index
from tests.kb_index.conftest import write_kb


class SlowDoubler:
    """Doubles each item; takes ``delay`` seconds a batch; fails on a negative item."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.calls: list[list[int]] = []
        self.started = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.calls.append(list(items))
        self.started.set()
        time.sleep(self.delay)
        if any(i < 0 for i in items):
            raise ValueError("negative")
        return [2 * i for i in items]


async def running(batcher: MicroBatcher[int, int], work: SlowDoubler, item: int) -> asyncio.Task[int]:
    """A first call whose batch is already running: the next callers queue behind it."""
    task = asyncio.create_task(batcher.submit(item))
    await asyncio.get_running_loop().run_in_executor(None, work.started.wait)
    return task


@pytest.fixture
def executor() -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


async def test_callers_arriving_during_a_batch_go_together_as_the_next(executor: ThreadPoolExecutor) -> None:
    work = SlowDoubler()
    batcher = MicroBatcher(work, executor)
    first = await running(batcher, work, 1)
    rest = [asyncio.create_task(batcher.submit(i)) for i in range(2, 11)]
    assert await first == 2
    assert await asyncio.gather(*rest) == [2 * i for i in range(2, 11)]
    assert work.calls == [[1], list(range(2, 11))]  # the first caller was not kept waiting


async def test_batches_are_capped(executor: ThreadPoolExecutor) -> None:
    work = SlowDoubler(delay=0.01)
    batcher = MicroBatcher(work, executor, max_batch=4)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(10))) == [2 * i for i in range(10)]
    assert max(len(c) for c in work.calls) <= 4 and sum(len(c) for c in work.calls) == 10


async def test_a_failing_batch_fails_its_callers_only(executor: ThreadPoolExecutor) -> None:
    work = SlowDoubler()
    batcher = MicroBatcher(work, executor)
    blocker = await running(batcher, work, 0)
    doomed = [asyncio.create_task(batcher.submit(i)) for i in (3, -1)]
    await blocker
    for task in doomed:
        with pytest.raises(ValueError, match="negative"):
            await task
    assert await batcher.submit(5) == 10  # the next batch runs as usual


async def test_a_cancelled_caller_is_left_out_of_its_batch(executor: ThreadPoolExecutor) -> None:
    work = SlowDoubler()
    batcher = MicroBatcher(work, executor)
    blocker = await running(batcher, work, 0)
    gone = asyncio.create_task(batcher.submit(7))
    kept = asyncio.create_task(batcher.submit(8))
    await asyncio.sleep(0)
    gone.cancel()
    assert await blocker == 0 and await kept == 16
    assert work.calls == [[0], [8]]


async def test_close_cancels_whoever_waits(executor: ThreadPoolExecutor) -> None:
    work = SlowDoubler()
    batcher = MicroBatcher(work, executor)
    first = await running(batcher, work, 1)
    queued = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    batcher.close()
    for task in (first, queued):
        with pytest.raises(asyncio.CancelledError):
            await task


def test_a_batcher_serves_one_event_loop_after_another(executor: ThreadPoolExecutor) -> None:
    batcher = MicroBatcher(SlowDoubler(delay=0), executor)
    assert asyncio.run(batcher.submit(1)) == 2
    assert asyncio.run(batcher.submit(2)) == 4  # `asyncio.run` per CLI command


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(128)
        self.batches: list[int] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        time.sleep(0.01)
        return super().encode(texts)


async def test_concurrent_searches_share_encodes_and_match_one_by_one_results(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    build_index(write_kb(tmp_path / "kb"), tmp_path / "index", embedder, progress=False)
    retriever = KBRetriever(tmp_path / "index", embedder)
    questions = ["reset my password", "is delivery free?", "refund my yearly plan", "xyzzy quantum"] * 4
    try:
        alone = [retriever.search_sync(q) for q in questions]
        embedder.batches.clear()
        together = await asyncio.gather(*(retriever.search(q) for q in questions))
    finally:
        retriever.close()
    assert [r.hits for r in together] == [r.hits for r in alone]
    assert [r.confidence for r in together] == pytest.approx([r.confidence for r in alone])
    assert sum(embedder.batches) == len(questions) and len(embedder.batches) < len(questions)
