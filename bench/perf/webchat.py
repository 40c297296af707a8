"""Web chat round trip: Guichet's durable accept and bot reply against a bare echo.

Raw baseline: a bare aiohttp WebSocket echo server in its own process, driven by the
same client code with the same frames.  Ours: the real app in its own process
(SQLite in a temp dir, job workers, outbox), visitors speaking the chat protocol.
Each conversation: connect, hello → welcome, one question → ack (committed) and the
bot's reply, close; with 1 visitor at a time and N at once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.perf.options import PerfOptions
from bench.perf.procs import ServerProcess
from bench.perf.retrieval import load_queries
from bench.perf.stats import LATENCY_UNIT, RATE_UNIT, BenchResult, Row, Summary
from bench.perf.ws_clients import WebRun, run_echo, run_visitors

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


def _describe(kind: str) -> str:
    if kind == "stub":
        return "stub retriever (instant, always confident): the gateway alone"
    return f"real retriever ({kind}) on the sample KB"


def _conversations(kind: str, visitors: int, opts: PerfOptions) -> int:
    if kind != "stub":
        return opts.web_model_conversations if visitors == 1 else max(1, opts.conversations_each // 2)
    return opts.conversations_single if visitors == 1 else opts.conversations_each


async def bench_webchat(kind: str, opts: PerfOptions) -> BenchResult:
    result = BenchResult(
        name=f"webchat:{kind}", title=f"Web chat round trip — {_describe(kind)}",
        ours="gateway.app.create_app in its own process (SQLite, job workers, outbox), INFO logging "
             "as `guichet serve`; visitors speak the chat protocol",
        raw="bare aiohttp WebSocket echo server in its own process; same client, same frames",
        params={"retriever": kind, "visitors": list(opts.visitors)},
    )
    texts = questions(opts)
    with tempfile.TemporaryDirectory(prefix="guichet-bench-web-") as tmp:
        work = Path(tmp)
        echo = ServerProcess("bench.perf.echo_server", [], work / "echo.log")
        app = ServerProcess(
            "bench.perf.app_server",
            ["--data-dir", str(work / "data"), "--retriever", kind, "--kb", str(opts.kb_dir)],
            work / "app.log",
        )
        try:
            async with echo, app:
                for visitors in opts.visitors:
                    each = _conversations(kind, visitors, opts)
                    echo_each = max(each, -(-opts.echo_min_conversations // visitors))
                    raw = await run_echo(f"http://127.0.0.1:{echo.port}/ws", visitors, echo_each,
                                         texts, opts.frame_timeout)
                    ours = await run_visitors(f"http://127.0.0.1:{app.port}/chat/ws", visitors,
                                              each, texts, opts.frame_timeout)
                    case = "1 visitor at a time" if visitors == 1 else f"{visitors} visitors at once"
                    result.rows += rows_for(case, ours, raw)
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
    return result


async def run_webchat(opts: PerfOptions) -> list[BenchResult]:
    return [await bench_webchat(kind, opts) for kind in opts.web_retrievers]
