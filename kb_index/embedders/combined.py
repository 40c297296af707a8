"""Several embedders as one: a weighted concatenation of their normalised vectors.

Each part's unit vector is scaled by ``sqrt(w_i)`` (weights normalised to sum 1)
and the scaled vectors are concatenated.  The result has norm 1, and the inner
product of two such vectors is ``sum_i w_i * cos_i``: a FAISS inner-product index
over them ranks by the weighted mean of the parts' cosine similarities, which is
score-level fusion computed by one index search.  ``dim`` is the sum of the
parts' dims; ``name`` lists the weights and the parts' names, so an index built
with other weights or parts is refused by the retriever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kb_index.embedders.base import Embedder, encode_queries, normalise


def parse_combination(spec: str) -> list[tuple[str, float]]:
    """``"use:0.6,minilm:0.4"`` -> ``[("use", 0.6), ("minilm", 0.4)]``.

    A part without a weight gets 1; weights need not sum to 1 (they are normalised).
    """
    parts: list[tuple[str, float]] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kind, _, weight = item.partition(":")
        kind = kind.strip().lower()
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise ValueError(f"combined embedder: bad weight in {item!r}") from None
        if not kind or not math.isfinite(value) or value <= 0:
            raise ValueError(f"combined embedder: {item!r} needs a kind and a weight > 0")
        parts.append((kind, value))
    if not parts:
        raise ValueError(f"combined embedder: no part in {spec!r} (e.g. 'use:0.6,minilm:0.4')")
    return parts


class CombinedEmbedder:
    """Weighted concatenation of L2-normalised embedders (cosine = weighted mean)."""

    def __init__(self, parts: Sequence[tuple[Embedder, float]]) -> None:
        if not parts:
            raise ValueError("a combined embedder needs at least one part")
        total = sum(weight for _, weight in parts)
        if any(weight <= 0 for _, weight in parts) or not math.isfinite(total):
            raise ValueError("combined embedder weights must be > 0")
        self.parts = tuple((embedder, weight / total) for embedder, weight in parts)
        self._scales = [math.sqrt(weight) for _, weight in self.parts]

    @property
    def name(self) -> str:
        inner = ", ".join(f"{weight:.3g}*{embedder.name}" for embedder, weight in self.parts)
        return f"combined({inner})"

    @property
    def dim(self) -> int:
        return sum(embedder.dim for embedder, _ in self.parts)

    def _combine(self, texts: list[str], queries: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        blocks = [
            (encode_queries(embedder, texts) if queries else embedder.encode(texts)) * np.float32(scale)
            for (embedder, _), scale in zip(self.parts, self._scales, strict=True)
        ]
        return normalise(np.hstack(blocks))

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._combine(texts, queries=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._combine(texts, queries=True)
