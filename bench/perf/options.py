"""How big a perf run is: full (``make bench``), ``--quick`` and the tests' tiny mode."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KB = ROOT / "examples" / "kb"
DEFAULT_CASES = ROOT / "examples" / "cases.jsonl"
DEFAULT_RESULTS = ROOT / "bench" / "results"
DEFAULT_EMBEDDER = "sentence-transformers"
WEB_MODEL = "e5"  # kb.embedder's default: the real retriever of the web bench


@dataclass(frozen=True, slots=True)
class PerfOptions:
    """Sizes are counts, never durations: every run is bounded in work done."""

    mode: str = "full"
    kb_dir: Path = DEFAULT_KB
    cases: Path = DEFAULT_CASES
    # retrieval
    embedders: tuple[str, ...] = (DEFAULT_EMBEDDER,)
    queries: int = 300  # per case and per side (ours, raw)
    callers: int = 8  # the "N concurrent callers" case
    batch: int = 32  # raw batched baseline
    # web chat
    visitors: tuple[int, ...] = (1, 50, 200)
    # conversations (connect, hello, one question, close) per visitor slot
    conversations_single: int = 200  # one visitor at a time
    conversations_each: int = 10  # per slot when several visitors talk at once
    echo_min_conversations: int = 1000  # echo is much faster: more samples, same bound
    web_retrievers: tuple[str, ...] = ("stub", WEB_MODEL)
    web_model_conversations: int = 60  # one at a time, with the real model
    # a case with many visitors: at most this many conversations in all (stub, real model)
    web_max_conversations: int = 600
    web_model_max_conversations: int = 400
    web_library_queries: int = 100  # raw library encode + search per case (real model)
    frame_timeout: float = 60.0  # seconds a client waits for one frame before failing
    results_dir: Path | None = DEFAULT_RESULTS

    @classmethod
    def for_mode(cls, mode: str) -> PerfOptions:
        if mode == "full":
            return cls()
        if mode == "quick":
            return cls(mode="quick", queries=100, callers=4, visitors=(1, 20), conversations_single=60,
                       conversations_each=5, echo_min_conversations=300, web_retrievers=("stub",))
        if mode == "tiny":  # the test suite: seconds, hash embedder, a few messages
            return cls(mode="tiny", embedders=("hash",), queries=12, callers=3, batch=4,
                       visitors=(1, 3), conversations_single=4, conversations_each=2,
                       echo_min_conversations=8, web_retrievers=("stub", "hash"),
                       web_model_conversations=3, web_library_queries=6, frame_timeout=20.0)
        raise ValueError(f"unknown mode {mode!r} (full, quick or tiny)")

    def with_(self, **changes: object) -> PerfOptions:
        return replace(self, **changes)  # type: ignore[arg-type]
