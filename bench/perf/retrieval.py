"""Retrieval latency: ``KBRetriever.search`` against a raw encode + FAISS search.

Raw baseline: the same embedder's ``encode([query])`` then ``faiss.IndexFlatIP.search``
(k = 5) over the same vectors, called directly (one caller) or from plain threads
(N callers), plus a batched encode + search as the throughput ceiling.  Ours: the
async ``KBRetriever.search`` (executor hop, per-article aggregation, calibrated
confidence and whatever else search does) on an index of the sample KB built in a
temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.perf.options import PerfOptions
from bench.perf.stats import RATE_UNIT, BenchResult, Row, Summary, compare
from bench.perf.timing import Alternating, drive_async, drive_threads

TOP_K = 5
ROUNDS = 4


def load_queries(cases: Path, kb_dir: Path) -> list[str]:
    """Customer questions from a case file (one JSON object a line, ``text``)."""
    texts: list[str] = []
    if cases.is_file():
        for line in cases.read_text("utf-8").splitlines():
            if line.strip():
                text = json.loads(line).get("text", "")
                if isinstance(text, str) and text.strip():
                    texts.append(text)
    if not texts:
        from kb_index import load_sources

        texts = [a.title for a in load_sources(kb_dir).articles]
    if not texts:
        raise ValueError(f"no queries: {cases} has no cases and {kb_dir} no articles")
    return texts


def cycle(texts: Sequence[str], count: int) -> list[str]:
    return [texts[i % len(texts)] for i in range(count)]


def embedder_kinds() -> list[str]:
    """Every kind ``make_embedder`` knows: its ``EMBEDDER_KINDS`` if it lists them,
    otherwise the names its error message gives for an unknown kind."""
    from kb_index import embedder as module

    listed = getattr(module, "EMBEDDER_KINDS", None) or getattr(module, "KINDS", None)
    if listed:
        return [str(k) for k in listed]
    try:
        module.make_embedder("?")
    except ValueError as exc:
        names = re.findall(r"'([^']+)'", str(exc).split("expected", 1)[-1])
        if names:
            return names
    return ["sentence-transformers", "hash"]


def index_vectors(index_dir: Path, embedder: Any, kb_dir: Path) -> np.ndarray:
    """The vectors the index holds (read from its FAISS file), else the chunks re-encoded."""
    from kb_index import current_version

    version = current_version(index_dir)
    path = index_dir / "versions" / str(version) / "vectors.faiss"
    try:
        index: Any = faiss.read_index(str(path))
        inner = faiss.downcast_index(index.index) if hasattr(index, "id_map") else index
        vectors = np.asarray(inner.reconstruct_n(0, inner.ntotal), dtype=np.float32)
        if len(vectors):
            return vectors
    except (RuntimeError, AttributeError, OSError):
        pass
    from kb_index import chunk_articles, load_sources

    chunks = chunk_articles(load_sources(kb_dir).articles)
    return np.asarray(embedder.encode([c.text for c in chunks]), dtype=np.float32)


class RawSearch:
    """encode + FAISS FlatIP search, nothing else."""

    def __init__(self, embedder: Any, vectors: np.ndarray) -> None:
        self.embedder = embedder
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors))

    def __call__(self, text: str) -> object:
        return self.index.search(self.embedder.encode([text]), TOP_K)

    def batch(self, texts: Sequence[str]) -> object:
        return self.index.search(self.embedder.encode(list(texts)), TOP_K)


def _batched(raw: RawSearch, queries: Sequence[str], size: int) -> Summary:
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(0, len(queries), size):
        t0 = time.perf_counter()
        raw.batch(queries[i : i + size])
        latencies.append(time.perf_counter() - t0)
    return Summary.of(latencies, time.perf_counter() - started, completed=len(queries))


async def _case(retriever: Any, raw: RawSearch, queries: Sequence[str],
                callers: int) -> tuple[Summary, Summary]:
    loop = asyncio.get_running_loop()
    rounds = Alternating(ROUNDS)

    async def ours(text: str) -> object:
        return await retriever.search(text, TOP_K)

    for chunk in rounds.chunks(queries):
        rounds.add_raw(await loop.run_in_executor(None, drive_threads, raw, chunk, callers))
        rounds.add_ours(await drive_async(ours, chunk, callers))
    return rounds.summaries()


async def bench_embedder(kind: str, opts: PerfOptions) -> BenchResult:
    from gateway.config import KBSettings
    from kb_index import KBRetriever, build_index, make_embedder
    from kb_index.embedder import make_term_encoder

    embedder = make_embedder(kind)
    terms = make_term_encoder(KBSettings().term_bridge)  # the product's default, as served
    result = BenchResult(
        name=f"retrieval:{kind}", title=f"Retrieval latency — {embedder.name}",
        ours=f"KBRetriever.search(q, k={TOP_K}) (async, executor) on the sample KB index, "
             f"term bridge {terms.name if terms else 'off'}",
        raw=f"{embedder.name} encode([q]) + faiss.IndexFlatIP.search(k={TOP_K}), same vectors, "
            "called directly / from plain threads",
        params={"embedder": kind, "queries": opts.queries, "callers": opts.callers,
                "batch": opts.batch, "kb_dir": str(opts.kb_dir)},
    )
    queries = cycle(load_queries(opts.cases, opts.kb_dir), opts.queries)
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as tmp:
        index_dir = Path(tmp) / "index"
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        await loop.run_in_executor(None, lambda: embedder.encode(["warm up"]))
        loaded = time.perf_counter() - started
        report = await loop.run_in_executor(
            None, lambda: build_index(opts.kb_dir, index_dir, embedder, progress=False, terms=terms))
        retriever = KBRetriever(index_dir, embedder, terms=terms)
        try:
            vectors = index_vectors(index_dir, embedder, opts.kb_dir)
            raw = RawSearch(embedder, vectors)
            warm = queries[: min(10, len(queries))]
            drive_threads(raw, warm, 1)
            await drive_async(lambda q: retriever.search(q, TOP_K), warm, 1)
            result.notes.append(
                f"model loaded in {loaded:.1f} s; index: {report.article_count} articles, "
                f"{report.chunk_count} chunks ({len(vectors)} vectors x {vectors.shape[1]}), "
                f"built in {report.seconds:.1f} s")
            for callers in (1, opts.callers):
                ours, base = await _case(retriever, raw, queries, callers)
                label = "1 caller" if callers == 1 else f"{callers} concurrent callers"
                result.rows += compare(label, ours, base)
            batched = await loop.run_in_executor(None, _batched, raw, queries, opts.batch)
            best = max((r.ours for r in result.rows if r.unit == RATE_UNIT), default=float("nan"))
            result.rows.append(Row(f"best ours vs raw batch of {opts.batch}", "throughput",
                                   RATE_UNIT, best, batched.per_second, batched.count))
            sizes = retriever.batch_sizes
            result.notes.append(
                f"the retriever encodes concurrent queries together (largest batch seen: "
                f"{max(sizes, default=1)}); the last row compares its best throughput with a raw "
                f"batched encode ({opts.batch} queries a call)")
        finally:
            retriever.close()
    return result


async def run_retrieval(opts: PerfOptions) -> list[BenchResult]:
    from kb_index import make_embedder

    kinds = embedder_kinds() if opts.embedders == ("all",) else list(opts.embedders)
    results: list[BenchResult] = []
    seen: set[str] = set()
    for kind in kinds:
        try:
            name = make_embedder(kind).name  # cheap: models load on first encode
            if name in seen:  # an alias of a kind already measured
                continue
            seen.add(name)
            results.append(await bench_embedder(kind, opts))
        except Exception as exc:  # one broken embedder must not hide the others' figures
            failed = BenchResult(name=f"retrieval:{kind}", title=f"Retrieval latency — {kind}",
                                 ours="KBRetriever.search", raw="encode + FAISS search")
            failed.errors.append(f"{type(exc).__name__}: {exc}")
            results.append(failed)
    return results
