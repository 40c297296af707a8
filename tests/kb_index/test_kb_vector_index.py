"""FAISS IDMap(FlatIP) with a JSON id map: search, save, load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb_index.chunking import Chunk
from kb_index.embedder import HashEmbedder
from kb_index.vector_index import IDMAP_FILE, VECTORS_FILE, IndexFormatError, VectorIndex

TEXTS = ["reset your password", "refund a yearly plan", "shipping costs", "suivre mon colis"]


def _index() -> tuple[VectorIndex, HashEmbedder]:
    e = HashEmbedder(64)
    index = VectorIndex(e.dim)
    chunks = [Chunk(f"a{i}", "passage", t) for i, t in enumerate(TEXTS)]
    index.add(e.encode(TEXTS[:2]), chunks[:2])
    index.add(e.encode(TEXTS[2:]), chunks[2:])  # ids continue across adds
    return index, e


def test_search_returns_row_ids_and_scores_best_first() -> None:
    index, e = _index()
    ids, scores = index.search(e.encode(["shipping costs"]), k=3)
    assert ids.shape == scores.shape == (1, 3)
    assert ids[0][0] == 2 and index.row(int(ids[0][0])).article_id == "a2"
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores[0]) == sorted(scores[0], reverse=True)


def test_k_larger_than_index_and_empty_index() -> None:
    index, e = _index()
    ids, _ = index.search(e.encode(["x"]), k=50)
    assert sorted(ids[0].tolist()) == [0, 1, 2, 3]
    empty = VectorIndex(64)
    ids, scores = empty.search(e.encode(["x"]), k=5)
    assert ids.shape == (1, 0) and scores.shape == (1, 0)


def test_save_load_round_trip(tmp_path: Path) -> None:
    index, e = _index()
    index.save(tmp_path)
    assert (tmp_path / VECTORS_FILE).is_file() and (tmp_path / IDMAP_FILE).is_file()
    loaded = VectorIndex.load(tmp_path)
    assert len(loaded) == 4 and loaded.dim == 64
    q = e.encode(["refund my plan"])
    for a, b in zip(index.search(q, 4), loaded.search(q, 4), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.row(3) == Chunk("a3", "passage", "suivre mon colis")


def test_mismatched_files_are_rejected(tmp_path: Path) -> None:
    index, _ = _index()
    index.save(tmp_path)
    payload = json.loads((tmp_path / IDMAP_FILE).read_text())
    payload["rows"] = payload["rows"][:2]
    (tmp_path / IDMAP_FILE).write_text(json.dumps(payload))
    with pytest.raises(IndexFormatError, match="does not match"):
        VectorIndex.load(tmp_path)
    (tmp_path / VECTORS_FILE).unlink()
    with pytest.raises(IndexFormatError):
        VectorIndex.load(tmp_path)


def test_dimension_checks() -> None:
    index = VectorIndex(8)
    with pytest.raises(ValueError):
        index.add(np.ones((2, 8), np.float32), [Chunk("a", "title", "x")])
    with pytest.raises(ValueError):
        index.search(np.ones((1, 4), np.float32), 1)
