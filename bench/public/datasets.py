"""CLINC150 and BANKING77 as knowledge bases, as ../shared/datasets/README.md (section 4)
describes: each intent is one FAQ article whose question variants are training
utterances, titled with the humanised intent name ("card_arrival" -> "Card arrival").

The KB is written as a FAQ JSONL file (``id, question, answer, title``), the format a
customer's FAQ export has, and indexed by the product's own ``build_index``.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

OOS = None  # the gold label of an out-of-scope query


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    gold: str | None  # intent id, or None for out of scope (must be handed off)


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    kb: Mapping[str, tuple[str, ...]]  # intent -> question variants
    tune: tuple[Query, ...]  # threshold chosen here
    test: tuple[Query, ...]  # figures reported here
    removed: int = 0  # test queries dropped because they appear verbatim in the KB


def default_data_dir() -> Path:
    """``$GUICHET_DATASETS``, else ``shared/datasets`` beside the repository."""
    env = os.environ.get("GUICHET_DATASETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "datasets"


def title_of(intent: str) -> str:
    return intent.replace("_", " ").strip().capitalize()


def _dedupe(kb: Mapping[str, Sequence[str]], queries: Sequence[Query]) -> tuple[tuple[Query, ...], int]:
    """Queries minus those that appear verbatim (case-insensitive) among KB variants."""
    seen = {v.strip().lower() for variants in kb.values() for v in variants}
    kept = tuple(q for q in queries if q.text.strip().lower() not in seen)
    return kept, len(queries) - len(kept)


def load_clinc150(data_dir: Path) -> Benchmark:
    """KB from ``train``; tune on ``val`` + ``oos_val``; test on ``test`` + ``oos_test``."""
    data = json.loads((data_dir / "clinc150" / "data_full.json").read_text("utf-8"))
    kb: dict[str, list[str]] = {}
    for text, intent in data["train"]:
        kb.setdefault(intent, []).append(text)

    def queries(*keys: str) -> list[Query]:
        return [Query(t, None if i == "oos" else i) for k in keys for t, i in data[k]]

    test, removed = _dedupe(kb, queries("test", "oos_test"))
    tune, _ = _dedupe(kb, queries("val", "oos_val"))
    return Benchmark("CLINC150", {k: tuple(v) for k, v in kb.items()}, tune, test, removed)


def _read_banking(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["text"], row["category"]) for row in csv.DictReader(fh)]


def load_banking77(data_dir: Path, *, shots: int = 10, seed: int = 0, held_out: float = 0.0) -> Benchmark:
    """``shots`` train utterances per intent (fixed seed) as the KB; test on ``test.csv``.

    With ``held_out`` > 0, that share of the intents (drawn with the same seed) is left
    out of the KB: their test queries must be handed off, and the threshold is tuned
    on the unused train utterances (their held-out intents' ones as out of scope).
    """
    train = _read_banking(data_dir / "banking77" / "train.csv")
    test = _read_banking(data_dir / "banking77" / "test.csv")
    rng = random.Random(seed)
    by_intent: dict[str, list[str]] = {}
    for text, intent in train:
        by_intent.setdefault(intent, []).append(text)
    intents = sorted(by_intent)
    hidden = set(rng.sample(intents, round(len(intents) * held_out))) if held_out > 0 else set()
    kb: dict[str, tuple[str, ...]] = {}
    rest: list[Query] = []
    for intent in intents:
        texts = sorted(by_intent[intent])
        rng.shuffle(texts)
        if intent in hidden:
            rest.extend(Query(t, None) for t in texts)
            continue
        kb[intent] = tuple(texts[:shots])
        rest.extend(Query(t, intent) for t in texts[shots:])
    queries = [Query(t, None if i in hidden else i) for t, i in test]
    kept, removed = _dedupe(kb, queries)
    name = f"BANKING77 {shots}-shot" + (f", {len(hidden)} intents held out" if hidden else "")
    tune, _ = _dedupe(kb, rest)
    return Benchmark(name, kb, tune, kept, removed)


def write_kb(benchmark: Benchmark, directory: Path) -> Path:
    """The KB as one FAQ JSONL file (also kept as the record of the sampled KB)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "faq.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for intent in sorted(benchmark.kb):
            title = title_of(intent)
            for i, question in enumerate(benchmark.kb[intent]):
                row = {"id": intent, "question": question}
                if i == 0:
                    row.update(title=title, answer=f"{title}.", lang="en")
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def subsample(queries: Sequence[Query], limit: int, seed: int = 0) -> tuple[Query, ...]:
    """At most ``limit`` queries, drawn with a fixed seed, in their original order."""
    if limit <= 0 or len(queries) <= limit:
        return tuple(queries)
    keep = sorted(random.Random(seed).sample(range(len(queries)), limit))
    return tuple(queries[i] for i in keep)
