"""An embedder wrapper that keeps vectors on disk, keyed by model and text.

The public benchmarks embed about 25,000 texts; on 2 cores that is a minute or more
per model.  :class:`CachingEmbedder` stores every vector it computed in
``<cache_dir>/<model>.npz`` (one row per text, keyed by the SHA-1 of the text), so a
rerun only encodes texts it has never seen.  ``name`` and ``dim`` are the wrapped
embedder's, so the index, the calibration and the decision see the same model.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb_index.embedder import Embedder

BATCH = 256


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachingEmbedder:
    """Encodes through ``inner`` only the texts missing from the on-disk cache."""

    def __init__(self, inner: Embedder, cache_dir: str | Path) -> None:
        self.inner = inner
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", inner.name)
        self.path = Path(cache_dir) / f"{slug}.npz"
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        self.encoded = 0  # texts actually sent to the model (for the timings line)
        if self.path.is_file():
            with np.load(self.path) as data:
                keys, matrix = data["keys"], data["vectors"]
            self._vectors = {str(k): matrix[i] for i, k in enumerate(keys)}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.inner.encode, "")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """The question side (E5 encodes questions differently), cached apart."""
        query_side = getattr(self.inner, "encode_queries", None)
        if not callable(query_side):
            return self.encode(texts)
        return self._encode(texts, query_side, "query:")

    def _encode(self, texts: list[str], encode: Callable[[list[str]], np.ndarray], side: str) -> np.ndarray:
        keys = [text_key(side + t) for t in texts]
        with self._lock:
            missing = sorted({k: t for k, t in zip(keys, texts, strict=True)
                              if k not in self._vectors}.items())
        for start in range(0, len(missing), BATCH):
            part = missing[start : start + BATCH]
            vectors = encode([t for _, t in part])
            with self._lock:
                for (key, _), vec in zip(part, vectors, strict=True):
                    self._vectors[key] = np.asarray(vec, dtype=np.float32)
                self._dirty = True
                self.encoded += len(part)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        """Write the cache if anything new was encoded (atomically)."""
        with self._lock:
            if not self._dirty:
                return
            keys = sorted(self._vectors)
            matrix = np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 0))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp.npz")
            np.savez(tmp, keys=np.asarray(keys), vectors=matrix.astype(np.float32))
            tmp.replace(self.path)
            self._dirty = False
