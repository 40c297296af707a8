"""CLINC150 and BANKING77 as knowledge bases with the product's *defaults*: the index
built as ``guichet kb index`` builds it (self-calibration on), the confidence the
version carries, the default ``bot.answer_threshold``; no threshold or constant
chosen on any split of the dataset (issue 10, acceptance 2).

    python -m bench.public.defaults [--dataset clinc150|banking77-heldout] [--split test|tune]

Prints in-scope accuracy (answered with the right intent ÷ in-scope queries) and
out-of-scope recall (out-of-scope queries not answered ÷ out-of-scope queries).
Embeddings are cached in ``bench/results/cache`` like :mod:`bench.public`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.public import RESULTS
from bench.public.cache import CachingEmbedder
from bench.public.datasets import default_data_dir, load_banking77, load_clinc150, write_kb
from gateway.config import BotSettings, KBSettings
from kb_index.embedder import encode_queries, make_embedder, make_term_encoder
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.public.defaults")
    p.add_argument("--dataset", default="clinc150", choices=("clinc150", "banking77-heldout"))
    p.add_argument("--split", default="test", choices=("test", "tune"))
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    kb = KBSettings()
    embedder = CachingEmbedder(make_embedder(kb.embedder, kb.model, 2), RESULTS / "cache")
    terms = make_term_encoder(kb.term_bridge)
    threshold = BotSettings().answer_threshold
    bench = (load_clinc150(args.data_dir) if args.dataset == "clinc150"
             else load_banking77(args.data_dir, held_out=0.25))
    queries = bench.test if args.split == "test" else bench.tune
    with tempfile.TemporaryDirectory(prefix="guichet-defaults-") as tmp:
        started = time.perf_counter()
        kb_dir = write_kb(bench, Path(tmp) / "kb" / "faq")
        report = build_index(kb_dir.parent, Path(tmp) / "index", embedder, progress=False, terms=terms)
        build = time.perf_counter() - started
        vectors = encode_queries(embedder, [q.text for q in queries])
        embedder.save()
        retriever = KBRetriever(Path(tmp) / "index", embedder, terms=terms)
        inscope = right = oos = handed = top1 = 0
        for query, vector in zip(queries, vectors, strict=True):
            result = retriever.search_encoded(query.text, vector)
            top = result.top.article_id if result.top else None
            answered = result.confidence >= threshold
            if query.gold is None:
                oos += 1
                handed += not answered
            else:
                inscope += 1
                right += answered and top == query.gold
                top1 += top == query.gold
        retriever.close()
    print(f"{bench.name} {args.split}: {inscope} in scope + {oos} out of scope; defaults "
          f"(threshold {threshold:g}, {embedder.name}, self-calibrated: "
          f"{report.calibration_seconds:.1f}s of a {build:.0f}s build)")
    print(f"in-scope accuracy {right / max(1, inscope):.3f}  out-of-scope recall {handed / max(1, oos):.3f}  "
          f"top-1 {top1 / max(1, inscope):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
