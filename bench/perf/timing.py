"""Closed-loop load drivers: N callers, each sending its next request when the last
one answered, over a fixed list of inputs (bounded in count, never open-ended)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bench.perf.stats import Summary


async def drive_async(call: Callable[[str], Awaitable[object]], inputs: Sequence[str],
                      callers: int) -> tuple[list[float], float]:
    """``callers`` tasks share ``inputs``; returns (latencies, wall seconds)."""
    latencies: list[float] = []
    position = iter(range(len(inputs)))

    async def caller() -> None:
        for i in position:
            started = time.perf_counter()
            await call(inputs[i])
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(max(1, callers))))
    return latencies, time.perf_counter() - started


def drive_threads(call: Callable[[str], object], inputs: Sequence[str],
                  callers: int) -> tuple[list[float], float]:
    """The raw way: ``callers`` plain threads share ``inputs`` (one caller: this thread)."""
    latencies: list[float] = []
    lock = threading.Lock()
    position = iter(range(len(inputs)))

    def caller() -> None:
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                return
            started = time.perf_counter()
            call(inputs[i])
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)

    started = time.perf_counter()
    if callers <= 1:
        caller()
    else:
        with ThreadPoolExecutor(callers, thread_name_prefix="raw-caller") as pool:
            for future in [pool.submit(caller) for _ in range(callers)]:
                future.result()
    return latencies, time.perf_counter() - started


class Alternating:
    """Measure ours and raw in alternating rounds, so a noisy neighbour hits both alike."""

    def __init__(self, rounds: int) -> None:
        self.rounds = max(1, rounds)
        self.ours: list[float] = []
        self.raw: list[float] = []
        self.ours_wall = 0.0
        self.raw_wall = 0.0

    def chunks(self, inputs: Sequence[str]) -> list[Sequence[str]]:
        size = max(1, -(-len(inputs) // self.rounds))
        return [inputs[i : i + size] for i in range(0, len(inputs), size)]

    def add_ours(self, measured: tuple[list[float], float]) -> None:
        self.ours.extend(measured[0])
        self.ours_wall += measured[1]

    def add_raw(self, measured: tuple[list[float], float]) -> None:
        self.raw.extend(measured[0])
        self.raw_wall += measured[1]

    def summaries(self) -> tuple[Summary, Summary]:
        return Summary.of(self.ours, self.ours_wall), Summary.of(self.raw, self.raw_wall)
