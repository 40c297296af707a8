"""The index-time calibration is batched and cached: scoring the KB's own questions
with every word translated up front gives the same features as the per-question
path, and a rebuild with the embedding cache warm encodes nothing (issue 10: the
calibration had tripled an index build)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb_index.embedder import HashEmbedder, encode_queries
from kb_index.fusion import FusionConfig
from kb_index.held_out_scores import HeldOutScorer, Probe
from kb_index.pseudo_queries import offtopic_questions, pseudo_queries
from kb_index.sources import load_sources
from kb_index.term_bridge import WordVectors
from kb_index.versions import build_index, load_current

SAMPLE_KB = Path(__file__).resolve().parents[2] / "examples" / "kb"


class Counting:
    """A hash embedder with a question side that counts the texts it encodes."""

    def __init__(self, name: str = "count") -> None:
        self.inner = HashEmbedder(64)
        self.tag = name
        self.encoded = 0

    @property
    def name(self) -> str:
        return f"{self.tag}-{self.inner.name}"

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return self.inner.encode(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return self.inner.encode(texts)


def test_words_translated_up_front_give_the_same_features(tmp_path: Path) -> None:
    embedder, words = HashEmbedder(64), HashEmbedder(32)
    build_index(SAMPLE_KB, tmp_path, embedder, progress=False, terms=words, self_calibrate=False)
    loaded = load_current(tmp_path)
    assert loaded is not None and loaded.bridge is not None
    chunks = [loaded.vectors.row(i) for i in range(len(loaded.vectors))]
    queries = pseudo_queries(load_sources(SAMPLE_KB).articles, chunks)
    texts = [q.text for q in queries] + list(offtopic_questions()[:40])
    probes = [Probe(t, "fr" if i % 2 else "en") for i, t in enumerate(texts)]
    vectors = encode_queries(embedder, texts)
    one_by_one = HeldOutScorer(loaded, FusionConfig(), word_vectors=WordVectors(words))
    batched = HeldOutScorer(loaded, FusionConfig(), word_vectors=WordVectors(words))
    batched.prepare(texts)
    for vector, probe in zip(vectors, probes, strict=True):
        top, features = one_by_one.features(vector, probe)
        top_b, features_b = batched.features(vector, probe)
        assert top_b == top
        assert features_b == pytest.approx(features)


def test_a_rebuild_with_the_cache_warm_encodes_nothing(tmp_path: Path) -> None:
    embedder, words = Counting("dense"), Counting("words")
    build_index(SAMPLE_KB, tmp_path, embedder, progress=False, terms=words, self_calibrate=True)
    assert embedder.encoded > 0 and words.encoded > 0
    first = sorted(p.name for p in (tmp_path / "versions").iterdir())
    embedder.encoded = words.encoded = 0
    build_index(SAMPLE_KB, tmp_path, embedder, progress=False, terms=words, self_calibrate=True)
    assert (embedder.encoded, words.encoded) == (0, 0)
    versions = sorted(p.name for p in (tmp_path / "versions").iterdir())
    assert len(versions) == len(first) + 1
    calibrations = [(tmp_path / "versions" / v / "calibration.json").read_text("utf-8")
                    for v in versions[-2:]]
    assert calibrations[0].split('"queries"')[0] == calibrations[1].split('"queries"')[0]


def test_cached_centroids_give_the_same_features_as_recomputed_ones(tmp_path: Path) -> None:
    """On an FAQ KB (five variants or more an entry: the variant centroid is mixed in),
    the centroids computed once equal the per-query means, held-out rows excepted."""
    kb = tmp_path / "kb"
    kb.mkdir()
    topics = {"reset": ["reset my password", "forgot password", "password lost", "cannot log in",
                        "change my password", "new password please"],
              "refund": ["get a refund", "money back", "refund my order", "return for refund",
                         "cancel and refund", "when is my refund"],
              "ship": ["shipping cost", "delivery time", "where is my parcel", "track my order",
                       "how long is delivery", "express shipping"]}
    lines = ["id,question,answer"] + [f"{t},{q},Answer about {t}." for t, qs in topics.items() for q in qs]
    (kb / "faq.csv").write_text("\n".join(lines) + "\n", "utf-8")
    embedder = HashEmbedder(64)
    build_index(kb, tmp_path / "index", embedder, progress=False, self_calibrate=False)
    loaded = load_current(tmp_path / "index")
    assert loaded is not None
    scorer = HeldOutScorer(loaded, FusionConfig())
    assert len(scorer.centroid_rows) == 3
    chunks = [loaded.vectors.row(i) for i in range(len(loaded.vectors))]
    queries = pseudo_queries(load_sources(kb).articles, chunks)
    vectors = encode_queries(embedder, [q.text for q in queries])

    def recomputed(dense: dict[str, float], vector: np.ndarray, blocked: np.ndarray) -> dict[str, float]:
        b, floor = scorer.fusion.centroid_weight, min(dense.values())
        mixed = dict(dense)
        for name, rows in scorer.centroid_rows.items():
            mean = scorer.matrix[rows[~blocked[rows]]].mean(axis=0)
            cosine = float(mean @ vector) / float(np.linalg.norm(mean))
            mixed[name] = (1 - b) * dense.get(name, floor) + b * cosine
        return mixed

    reference = HeldOutScorer(loaded, FusionConfig())
    reference._with_centroids = recomputed  # type: ignore[method-assign]
    for query, vector in zip(queries, vectors, strict=True):
        for probe in (Probe(query.text, "en", query.held_out), Probe(query.text, "en")):
            top, features = scorer.features(vector, probe)
            top_r, features_r = reference.features(vector, probe)
            assert top == top_r
            assert features == pytest.approx(features_r, abs=1e-5)
