"""Exact inner-product search over normalised vectors (cosine similarity).

FAISS ``IndexIDMap(IndexFlatIP)``; each row id maps to a :class:`Chunk` (article id,
kind, text).  Saved as ``vectors.faiss`` plus ``idmap.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from kb_index.chunking import Chunk

VECTORS_FILE = "vectors.faiss"
IDMAP_FILE = "idmap.json"


class IndexFormatError(ValueError):
    """The files on disk do not form a valid vector index."""


class VectorIndex:
    """Vectors and the chunk each row id stands for.  Not mutated once searched."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index: Any = faiss.IndexIDMap(faiss.IndexFlatIP(dim))
        self._rows: dict[int, Chunk] = {}

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray, chunks: Sequence[Chunk]) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
            raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
        if len(chunks) == 0:
            return
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have dim {vectors.shape[1]}, index has {self.dim}")
        start = len(self._rows)
        ids = np.arange(start, start + len(chunks), dtype=np.int64)
        self._index.add_with_ids(vectors, ids)
        self._rows.update(zip(ids.tolist(), chunks, strict=True))

    def row(self, row_id: int) -> Chunk:
        return self._rows[row_id]

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(row ids, vectors) of every row, in insertion order (per-article centroids)."""
        flat = faiss.downcast_index(self._index.index)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return ids, np.asarray(flat.reconstruct_n(0, flat.ntotal), dtype=np.float32)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(row ids, scores), each shaped (len(queries), k'), best first; k' <= k.

        Missing neighbours (fewer rows than k) are dropped, so k' = min(k, rows).
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.shape[1] != self.dim:
            raise ValueError(f"query has dim {queries.shape[1]}, index has {self.dim}")
        k = min(k, len(self))
        if k <= 0:
            empty = np.zeros((queries.shape[0], 0))
            return empty.astype(np.int64), empty.astype(np.float32)
        scores, ids = self._index.search(queries, k)
        return ids.astype(np.int64), scores.astype(np.float32)

    # ------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        faiss.write_index(self._index, str(directory / VECTORS_FILE))
        rows = [
            {"row": row_id, "article_id": c.article_id, "kind": c.kind, "text": c.text}
            for row_id, c in sorted(self._rows.items())
        ]
        payload = {"dim": self.dim, "rows": rows}
        (directory / IDMAP_FILE).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> VectorIndex:
        directory = Path(directory)
        try:
            payload = json.loads((directory / IDMAP_FILE).read_text("utf-8"))
            index = faiss.read_index(str(directory / VECTORS_FILE))
            rows = {
                int(r["row"]): Chunk(str(r["article_id"]), str(r["kind"]), str(r["text"]))
                for r in payload["rows"]
            }
            dim = int(payload["dim"])
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(f"cannot load vector index from {directory}: {exc}") from exc
        if index.d != dim or index.ntotal != len(rows):
            raise IndexFormatError(
                f"{directory}: FAISS file ({index.ntotal} x {index.d}) does not match "
                f"the id map ({len(rows)} x {dim})"
            )
        loaded = cls(dim)
        loaded._index = index
        loaded._rows = rows
        return loaded
