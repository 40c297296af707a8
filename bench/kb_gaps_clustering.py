"""How well the KB gaps report groups questions by topic: CLINC150 test queries
(the first N intents, all their queries, shuffled) clustered with the TF-IDF
vectorizer and with a sentence embedder, at several thresholds.  Prints the
adjusted Rand index, purity (share of questions in their cluster's majority
intent) and clusters found vs intents.

    .venv/bin/python -m bench.kb_gaps_clustering [--intents 20] [--embedder minilm]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from math import comb
from pathlib import Path

import numpy as np

from gateway.kb.gaps import cluster
from gateway.kb.vectors import EmbedderVectorizer, TfidfVectorizer, Vectorizer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "clinc150" / "data_full.json"


def ari(truth: list[str], groups: list[list[int]]) -> float:
    labels = np.empty(len(truth), dtype=int)
    for g, members in enumerate(groups):
        labels[members] = g
    pairs = Counter(zip(truth, labels.tolist(), strict=True))
    sum_ij = sum(comb(n, 2) for n in pairs.values())
    sum_a = sum(comb(n, 2) for n in Counter(truth).values())
    sum_b = sum(comb(len(g), 2) for g in groups)
    expected = sum_a * sum_b / comb(len(truth), 2)
    top = (sum_a + sum_b) / 2
    return (sum_ij - expected) / (top - expected) if top != expected else 1.0


def purity(truth: list[str], groups: list[list[int]]) -> float:
    return sum(Counter(truth[i] for i in g).most_common(1)[0][1] for g in groups) / len(truth)


def run(vectorizer: Vectorizer, texts: list[str], truth: list[str], thresholds: list[float]) -> None:
    start = time.perf_counter()
    vectors = vectorizer.vectors(texts)
    encode = time.perf_counter() - start
    for threshold in thresholds:
        start = time.perf_counter()
        groups = cluster(vectors, threshold)
        took = time.perf_counter() - start
        scores = f"{ari(truth, groups):>6.3f} {purity(truth, groups):>7.3f}"
        print(f"{vectorizer.name:<32} {threshold:>5.2f} {scores} {len(groups):>8} {len(set(truth)):>7}"
              f" {encode + took:>7.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--intents", type=int, default=20)
    parser.add_argument("--embedder", default="minilm", help="kb.embedder kind; empty: TF-IDF only")
    args = parser.parse_args()
    rows = json.loads(DATA.read_text())["test"]
    intents = sorted({label for _, label in rows})[: args.intents]
    items = [(t, label) for t, label in rows if label in intents]
    random.Random(7).shuffle(items)
    texts, truth = [t for t, _ in items], [label for _, label in items]
    print(f"CLINC150 test: {len(texts)} questions, {len(intents)} intents")
    print(f"{'vectors':<32} {'τ':>5} {'ARI':>6} {'purity':>7} {'clusters':>8} {'intents':>7} {'time':>8}")
    run(TfidfVectorizer(), texts, truth, [0.15, 0.2, 0.25, 0.3, 0.4])
    if args.embedder:
        from kb_index.embedder import make_embedder

        embedder = make_embedder(args.embedder, "", 2)
        run(EmbedderVectorizer(embedder), texts, truth, [0.4, 0.5, 0.6, 0.7])


if __name__ == "__main__":
    main()
