"""Public benchmarks: CLINC150 (answer or hand off) and BANKING77 (10-shot), run through
the product's own index and retriever, beside BM25-only and dense-only baselines from
the same run and the published anchors.

    python -m bench.public                          # all, the product's default embedder
    python -m bench.public --dataset clinc150 --embedder sentence-transformers
    python -m bench.public --quick                  # 1,000 tuning + 1,000 test queries each

Data: ``$GUICHET_DATASETS`` or ``shared/datasets`` beside the repository (see its
README, section 4).  Embeddings are cached in ``bench/results/cache`` (per model, per
text hash), so a rerun only encodes what it has never seen; the sampled KBs are saved
in ``bench/results/kb/`` and the figures in ``bench/results/public.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from bench.public.cache import CachingEmbedder
from bench.public.datasets import Benchmark, default_data_dir, load_banking77, load_clinc150, subsample
from bench.public.harness import BenchResult, run_benchmark
from bench.public.report import render, to_dict
from gateway.config import KBSettings
from kb_index.embedder import Embedder

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parents[1] / "results"
DATASETS = ("clinc150", "banking77", "banking77-heldout")
QUICK_LIMIT = 1000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.public", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", action="append", choices=(*DATASETS, "all"),
                   help="repeatable; default: all")
    p.add_argument("--data-dir", type=Path, help="datasets folder (default: %(default)s)",
                   default=default_data_dir())
    p.add_argument("--embedder", default=KBSettings().embedder,
                   help="kb.embedder kind (default: the product's, %(default)s)")
    p.add_argument("--model", default="", help="kb.model for that kind")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--results", type=Path, default=RESULTS, help="cache, KBs and JSON figures")
    p.add_argument("--min-oos-recall", type=float, default=0.75,
                   help="threshold rule: best in-scope accuracy at this OOS recall on the tuning split")
    p.add_argument("--shots", type=int, default=10, help="BANKING77 variants per intent")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="at most N tuning and N test queries")
    p.add_argument("--quick", action="store_true", help=f"same as --limit {QUICK_LIMIT}")
    p.add_argument("--no-head", dest="head", action="store_false",
                   help="skip the bench-only KB-trained softmax head row")
    return p


def _loaders(args: argparse.Namespace) -> dict[str, Callable[[], Benchmark]]:
    return {
        "clinc150": lambda: load_clinc150(args.data_dir),
        "banking77": lambda: load_banking77(args.data_dir, shots=args.shots, seed=args.seed),
        "banking77-heldout": lambda: load_banking77(args.data_dir, shots=args.shots, seed=args.seed,
                                                    held_out=0.25),
    }


def _embedder(args: argparse.Namespace) -> tuple[Embedder, list[CachingEmbedder]]:
    """The product's embedder for ``--embedder``/``--model``, each model part behind the cache."""
    from kb_index.embedder import DEFAULT_COMBINATION, make_embedder
    from kb_index.embedders.combined import CombinedEmbedder, parse_combination

    cache_dir = args.results / "cache"
    if args.embedder.strip().lower() != "combined":
        cache = CachingEmbedder(make_embedder(args.embedder, args.model, args.threads), cache_dir)
        return cache, [cache]
    parts = [(CachingEmbedder(make_embedder(kind, "", args.threads), cache_dir), weight)
             for kind, weight in parse_combination(args.model or DEFAULT_COMBINATION)]
    return CombinedEmbedder(parts), [cache for cache, _ in parts]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(width=max(150, Console().width))
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(name, value)
    wanted = args.dataset or ["all"]
    names = list(DATASETS) if "all" in wanted else list(dict.fromkeys(wanted))
    if not args.data_dir.is_dir():
        console.print(f"public benchmarks skipped: no datasets folder at {args.data_dir} "
                      "(set GUICHET_DATASETS)")
        return 0
    embedder, caches = _embedder(args)
    limit = QUICK_LIMIT if args.quick and not args.limit else args.limit
    results: list[BenchResult] = []
    loaders = _loaders(args)
    for name in names:
        started = time.perf_counter()
        try:
            benchmark = loaders[name]()
        except (OSError, ValueError, KeyError) as exc:
            console.print(f"[yellow]{name} skipped: cannot read the dataset ({exc})[/]")
            continue
        if limit:
            benchmark = Benchmark(benchmark.name, benchmark.kb, subsample(benchmark.tune, limit, args.seed),
                                  subsample(benchmark.test, limit, args.seed), benchmark.removed)
        encoded_before = sum(c.encoded for c in caches)
        result = run_benchmark(benchmark, embedder, min_oos_recall=args.min_oos_recall,
                               kb_record_dir=args.results / "kb" / name, head=args.head)
        for cache in caches:
            cache.save()
        result.timings["texts encoded (not cached)"] = float(sum(c.encoded for c in caches) - encoded_before)
        result.timings["total (s)"] = time.perf_counter() - started
        render(result, console)
        results.append(result)
    if results:
        args.results.mkdir(parents=True, exist_ok=True)
        out = args.results / "public.json"
        out.write_text(json.dumps([to_dict(r) for r in results], indent=1), "utf-8")
        console.print(f"figures written to {out}")
    return 0
