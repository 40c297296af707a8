"""Run one benchmark through the product's own index and retriever.

The KB is written as a FAQ file and indexed by ``kb_index.versions.build_index``;
every system is a ``KBRetriever`` over that one index version, so they share the
same chunks, vectors and BM25 index and differ only in how they score:

- OURS: the product default (hybrid fusion, calibrated confidence), exactly what the
  live bot computes; its decision is "answer when confidence >= threshold", the rule
  of ``gateway.flow.policy.decide`` for a question (the policy's smalltalk and "talk to a
  person" shortcuts are left out: CLINC150 has greeting and goodbye intents);
- OURS, calibration refit on the tuning split: the same retrieval and features, the
  confidence's constants refitted on the tuning queries (``kb eval
  --fit-calibration`` does the same on a customer's own cases);
- dense only and BM25 only: the same retriever with the fusion weight at 0 or 1 and
  the raw top score as the confidence.

Each system's threshold is chosen on the tuning split only and applied to the test
split.  Query vectors are encoded once, in batches, and shared by every system.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.public.datasets import Benchmark, Query, write_kb
from bench.public.head import SoftmaxHead
from bench.public.metrics import Figures, Ranked, choose_threshold, figures
from kb_index.calibration import Calibration, calibration_for, fit_calibration
from kb_index.embedder import Embedder, encode_queries
from kb_index.fusion import FusionConfig
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index

OURS = "OURS: hybrid + calibrated (live bot)"
OURS_REFIT = "OURS, calibration refit on tuning split"
DENSE = "dense only (cosine)"
HEAD = "KB-trained softmax head (bench only)"
LEXICAL = "BM25 only"


@dataclass(frozen=True, slots=True)
class System:
    name: str
    fusion: FusionConfig
    calibrated: bool  # confidence: calibrated (True) or the raw top score


SYSTEMS = (
    System(OURS, FusionConfig(), True),
    System(DENSE, FusionConfig(lexical_weight=0.0), False),
    System(LEXICAL, FusionConfig(lexical_weight=1.0), False),
)


@dataclass(frozen=True, slots=True)
class SystemResult:
    name: str
    threshold: float
    test: Figures
    tune: Figures
    search_seconds: float


@dataclass
class BenchResult:
    name: str
    embedder: str
    articles: int
    variants: int
    tune_queries: int
    test_queries: int
    removed: int
    systems: list[SystemResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    kb_file: str = ""


def _rows(
    retriever: KBRetriever, queries: Sequence[Query], vectors: np.ndarray, calibrated: bool
) -> tuple[list[Ranked], list[dict[str, float]]]:
    rows, feats = [], []
    for query, vector in zip(queries, vectors, strict=True):
        result = retriever.search_encoded(query.text, vector, k=5)
        ranking = tuple(h.article_id for h in result.hits)
        top = result.hits[0].score if result.hits else 0.0
        rows.append(Ranked(query.gold, ranking, result.confidence if calibrated else top))
        feats.append({k: float(v) for k, v in result.extras.items() if isinstance(v, int | float)})
    return rows, feats


def _refit(
    rows: list[Ranked], feats: list[dict[str, float]], calibration: Calibration
) -> list[Ranked]:
    pairs = zip(rows, feats, strict=True)
    return [dataclasses.replace(r, confidence=calibration.confidence(f)) for r, f in pairs]


def run_benchmark(
    benchmark: Benchmark,
    embedder: Embedder,
    *,
    min_oos_recall: float,
    kb_record_dir: Path | None = None,
    systems: Sequence[System] = SYSTEMS,
    head: bool = False,
) -> BenchResult:
    """Index the benchmark's KB, run every system on the tuning and test queries."""
    result = BenchResult(
        name=benchmark.name, embedder=embedder.name, articles=len(benchmark.kb),
        variants=sum(len(v) for v in benchmark.kb.values()),
        tune_queries=len(benchmark.tune), test_queries=len(benchmark.test), removed=benchmark.removed,
    )
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as tmp:
        started = time.perf_counter()
        kb_dir = write_kb(benchmark, kb_record_dir or Path(tmp) / "kb")
        result.kb_file = str(kb_dir)
        build_index(kb_dir.parent, Path(tmp) / "index", embedder, progress=False)
        result.timings["index build (s)"] = time.perf_counter() - started

        started = time.perf_counter()
        tune_vectors = encode_queries(embedder, [q.text for q in benchmark.tune])
        test_vectors = encode_queries(embedder, [q.text for q in benchmark.test])
        result.timings["query encode (s)"] = time.perf_counter() - started

        for system in systems:
            retriever = KBRetriever(Path(tmp) / "index", embedder, fusion=system.fusion)
            try:
                started = time.perf_counter()
                tune_rows, tune_feats = _rows(retriever, benchmark.tune, tune_vectors, system.calibrated)
                test_rows, test_feats = _rows(retriever, benchmark.test, test_vectors, system.calibrated)
                seconds = time.perf_counter() - started
            finally:
                retriever.close()
            result.systems.append(_score(system.name, tune_rows, test_rows, min_oos_recall, seconds))
            if system.name == OURS and any(r.gold is None for r in tune_rows):
                labels = [bool(r.ranking) and r.ranking[0] == r.gold for r in tune_rows]
                if len(set(labels)) == 2:
                    features = tuple(calibration_for(embedder.name).weights)  # the product's own
                    refit = fit_calibration(tune_feats, labels, features=features,
                                            name=f"{benchmark.name} tuning split")
                    result.systems.append(_score(
                        OURS_REFIT, _refit(tune_rows, tune_feats, refit),
                        _refit(test_rows, test_feats, refit), min_oos_recall, seconds))
        if head:
            result.systems.append(_head(benchmark, embedder, tune_vectors, test_vectors, min_oos_recall))
    return result


def _head(
    benchmark: Benchmark, embedder: Embedder, tune_vectors: np.ndarray, test_vectors: np.ndarray,
    min_oos_recall: float,
) -> SystemResult:
    """Train the head on the KB's variants (question side, like the queries); score as the others."""
    started = time.perf_counter()
    labels = [intent for intent, variants in benchmark.kb.items() for _ in variants]
    texts = [text for variants in benchmark.kb.values() for text in variants]
    model = SoftmaxHead.fit(encode_queries(embedder, texts), labels)

    def rows(queries: Sequence[Query], vectors: np.ndarray) -> list[Ranked]:
        rankings, confidence = model.predict(vectors)
        return [Ranked(q.gold, r, float(c)) for q, r, c in zip(queries, rankings, confidence, strict=True)]

    tune, test = rows(benchmark.tune, tune_vectors), rows(benchmark.test, test_vectors)
    return _score(HEAD, tune, test, min_oos_recall, time.perf_counter() - started)


def _score(
    name: str, tune: list[Ranked], test: list[Ranked], min_oos_recall: float, seconds: float
) -> SystemResult:
    threshold = choose_threshold(tune, min_oos_recall)
    return SystemResult(name, threshold, figures(test, threshold), figures(tune, threshold), seconds)
