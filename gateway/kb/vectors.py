"""Text vectors for clustering customer questions: a TF-IDF vectorizer over
folded words and their character trigrams (no model, robust to plurals and
accents), or any embedder with ``encode(texts) -> normalised matrix``.

Each vectorizer carries the cosine similarity at which two questions count as
the same topic (measured: see the README's KB gaps section).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from gateway.flow.signals import content_words


class Vectorizer(Protocol):
    name: str
    threshold: float  # cosine at or above which two texts are one topic

    def vectors(self, texts: Sequence[str]) -> np.ndarray: ...


def _features(text: str) -> Counter[str]:
    feats: Counter[str] = Counter()
    for word in content_words(text):
        feats["w:" + word] += 2
        padded = f"<{word}>"
        for i in range(len(padded) - 2):
            feats["c:" + padded[i : i + 3]] += 1
    return feats


class TfidfVectorizer:
    """Fitted on the texts it is given (one report), L2-normalised rows."""

    name = "tfidf"

    def __init__(self, threshold: float = 0.25) -> None:
        self.threshold = threshold

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        counts = [_features(t) for t in texts]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        vocab = {f: i for i, f in enumerate(sorted(df))}
        n = len(texts)
        matrix = np.zeros((n, max(1, len(vocab))), dtype=np.float32)
        for row, c in enumerate(counts):
            for feat, tf in c.items():
                matrix[row, vocab[feat]] = (1 + math.log(tf)) * (1 + math.log((1 + n) / (1 + df[feat])))
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1.0, norms)


class EmbedderVectorizer:
    """Sentence embeddings from the knowledge base's own embedder."""

    def __init__(self, embedder: Any, threshold: float = 0.5) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.name = f"embedder:{getattr(embedder, 'name', type(embedder).__name__)}"

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        matrix = np.asarray(self.embedder.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1.0, norms)


def vectorizer_for(retriever: Any) -> Vectorizer:
    """The retriever's embedder when it has a semantic one, else TF-IDF (the
    deterministic hash embedder carries no meaning worth clustering on)."""
    embedder = getattr(retriever, "embedder", None)
    name = str(getattr(embedder, "name", ""))
    if embedder is None or not hasattr(embedder, "encode") or name.startswith("hash"):
        return TfidfVectorizer()
    return EmbedderVectorizer(embedder)
