"""The multilingual models shipped in PyPI packages, loaded for real (offline)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from kb_index.embedder import encode_queries, make_embedder

pytestmark = pytest.mark.model

QUESTION_FR = "Comment supprimer mon compte ?"
ANSWER_EN = "Delete your Colibri account"
UNRELATED_EN = "Shipping rates for your online shop"


@pytest.mark.parametrize("kind", ["use", "e5", "use-raw", "e5-raw"])
def test_a_french_question_is_closest_to_its_english_translation(kind: str) -> None:
    embedder = make_embedder(kind, "", 2)
    docs = embedder.encode([ANSWER_EN, UNRELATED_EN])
    query = encode_queries(embedder, [QUESTION_FR])
    assert docs.dtype == np.float32 and docs.shape == (2, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-5)
    scores = (query @ docs.T)[0]
    margin = 0.02 if kind.endswith("-raw") else 0.1  # raw E5 cosines sit in a narrow band
    assert scores[0] > scores[1] + margin, scores


def test_e5_leaves_omp_num_threads_as_it_was() -> None:
    code = (
        "import os\n"
        "from kb_index.embedder import make_embedder\n"
        "e = make_embedder('e5-raw', '', 1)\n"
        "print(e.encode(['bonjour']).shape, os.environ.get('OMP_NUM_THREADS', 'unset'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=120, env=env).stdout
    assert out.split() == ["(1,", "384)", "unset"]


def test_e5_asym_prefixes_questions_and_indexed_texts_differently() -> None:
    e5 = make_embedder("e5-asym", "", 2)
    as_doc, as_query = e5.encode([QUESTION_FR]), encode_queries(e5, [QUESTION_FR])
    assert float(as_doc[0] @ as_query[0]) < 0.99  # "passage: " vs "query: "


def test_combined_default_is_normalised_and_concatenates_its_parts() -> None:
    combined = make_embedder("combined", "", 2)
    vectors = combined.encode([ANSWER_EN, QUESTION_FR])
    assert vectors.shape == (2, combined.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
