"""Run the selected perf benches, print their tables and save them as JSON."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.perf.machine import machine_facts
from bench.perf.options import PerfOptions
from bench.perf.report import print_machine, print_results, print_targets, write_json
from bench.perf.retrieval import run_retrieval
from bench.perf.stats import BenchResult
from bench.perf.targets import check_targets
from bench.perf.webchat import run_webchat

BENCHES = ("retrieval", "webchat", "email")  # email: bench/email_smtp.py (issue 8)


async def run_perf(opts: PerfOptions, benches: Sequence[str] = BENCHES) -> list[BenchResult]:
    unknown = set(benches) - set(BENCHES)
    if unknown:
        raise ValueError(f"unknown perf bench(es): {', '.join(sorted(unknown))}")
    results: list[BenchResult] = []
    if "retrieval" in benches:
        results += await run_retrieval(opts)
    if "webchat" in benches:
        results += await run_webchat(opts)
    if "email" in benches:  # SMTP in vs a bare aiosmtpd sink (issue 8)
        from bench.email_smtp import run_email

        results += await run_email(opts)
    return results


def payload(opts: PerfOptions, facts: dict[str, Any], results: Sequence[BenchResult],
            seconds: float) -> dict[str, Any]:
    return {
        "kind": "perf",
        "mode": opts.mode,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": facts,
        "benches": [r.to_dict() for r in results],
        "targets": [c.to_dict() for c in check_targets(results)],
    }


def run(opts: PerfOptions, benches: Sequence[str] = BENCHES, console: Console | None = None) -> int:
    """Print and save; 0 when every bench produced figures without an error."""
    console = console or Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 110))  # piped: keep table rows on one line
    facts = machine_facts()
    console.rule(f"Performance benchmarks ({opts.mode})")
    print_machine(console, facts)
    started = time.perf_counter()
    results = asyncio.run(run_perf(opts, benches))
    seconds = time.perf_counter() - started
    print_results(console, results)
    if "webchat" in benches:
        print_targets(console, check_targets(results))
    console.print(f"\nperf benches took {seconds:.0f} s")
    if opts.results_dir is not None:
        path = write_json(Path(opts.results_dir), payload(opts, facts, results, seconds))
        console.print(f"results saved to {path}", soft_wrap=True)
    failed = [r.name for r in results if r.errors or not r.rows]
    if failed:
        console.print(f"[red]failed:[/] {', '.join(failed)}")
    return 1 if failed else 0
