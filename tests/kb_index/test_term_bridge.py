"""The cross-language term bridge: question words translated into the KB's other
language so that BM25 (and the confidence's lexical features) see a French
question's match with an English article, and the reverse.

A glossary encoder stands in for the multilingual word encoder: words of one
concept ("facture", "invoice") share a vector, any other word gets its own.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest

from kb_index.chunking import Chunk
from kb_index.embedder import HashEmbedder
from kb_index.lexical import LexicalIndex
from kb_index.retriever import KBRetriever
from kb_index.term_bridge import (
    MIN_SIMILARITY,
    TermBridge,
    WordVectors,
    bridged_scores,
    content_words,
    vocabularies,
)
from kb_index.vector_index import IndexFormatError
from kb_index.versions import build_index, load_version

CONCEPTS = {
    "facture": "invoice", "factures": "invoice", "invoice": "invoice", "invoices": "invoice",
    "télécharger": "download", "download": "download",
    "supprimer": "delete", "delete": "delete",
    "compte": "account", "account": "account",
    "livraison": "delivery", "delivery": "delivery",
}


class GlossaryEncoder:
    """One unit vector per concept; unknown words get a vector of their own."""

    def __init__(self, name: str = "glossary") -> None:
        self.name = name
        self.dim = 64
        self.calls: list[list[str]] = []

    def _vector(self, word: str) -> np.ndarray:
        key = CONCEPTS.get(word.lower(), f"word:{word.lower()}")
        slot = int(hashlib.sha256(key.encode()).hexdigest(), 16) % self.dim
        vec = np.zeros(self.dim, dtype=np.float32)
        vec[slot] = 1.0
        return vec

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])


def _write_kb(kb: Path) -> None:
    kb.mkdir()
    (kb / "invoices.md").write_text(
        "---\nid: invoice-download\ntitle: Download your invoices\nlang: en\n---\n"
        "Open Billing and click Download next to each invoice to get the PDF.\n", "utf-8")
    (kb / "deletion.md").write_text(
        "---\nid: account-deletion\ntitle: Delete your account\nlang: en\n---\n"
        "Go to Settings, Account, Delete account and confirm with your password.\n", "utf-8")
    (kb / "livraison.md").write_text(
        "---\nid: suivi-livraison\ntitle: Suivre une livraison\nlang: fr\n---\n"
        "Chaque livraison a un numéro de suivi, visible dans la commande.\n", "utf-8")


def test_content_words_keep_accents_and_drop_stop_words() -> None:
    assert content_words("Où puis-je télécharger mes factures ?") == ["télécharger", "factures"]


def test_vocabularies_are_per_article_language_with_the_usual_spelling() -> None:
    chunks = [
        Chunk("a", "passage", "Invoices and more invoices, one invoice"),
        Chunk("b", "passage", "Les factures"),
        Chunk("c", "passage", "no language here"),
    ]
    vocab = vocabularies(chunks, {"a": "en", "b": "fr", "c": ""})
    assert set(vocab) == {"en", "fr"}  # the article without a language is left out
    assert ("invoice", "invoices") in vocab["en"]  # one token, its most frequent spelling
    assert vocab["fr"] == [("facture", "factures")]


def test_translation_takes_the_nearest_kb_word_only_when_close_enough() -> None:
    encoder = GlossaryEncoder()
    chunks = [Chunk("a", "passage", "Download the invoice")]
    bridge = TermBridge.build(chunks, {"a": "en"}, encoder)
    words = ["télécharger", "factures", "parapluie"]
    translated = bridge.translate(words, encoder.encode(words), "en")
    # the unmatched word keeps its own token: still counted in the query's IDF mass
    assert translated == ["download", "invoice", "parapluie"]
    assert MIN_SIMILARITY > 0.5


def test_a_french_question_gets_lexical_evidence_for_the_english_article() -> None:
    encoder = GlossaryEncoder()
    chunks = [
        Chunk("invoice-download", "passage", "Download each invoice as a PDF"),
        Chunk("suivi-livraison", "passage", "Suivre une livraison"),
    ]
    langs = {"invoice-download": "en", "suivi-livraison": "fr"}
    lexical = LexicalIndex.from_chunks(chunks)
    bridge = TermBridge.build(chunks, langs, encoder)
    question = "Comment télécharger une facture ?"
    without = bridged_scores(lexical, langs, question, "fr", None, None)
    assert "invoice-download" not in without.scores
    bridged = bridged_scores(lexical, langs, question, "fr", bridge, WordVectors(encoder))
    assert bridged.scores["invoice-download"] > 0.8  # every (translated) word matched
    assert bridged.tokens["en"] == ["download", "invoice"]
    # a language the question is already in is not translated
    same = bridged_scores(lexical, langs, "Suivre ma livraison", "fr", bridge, WordVectors(encoder))
    assert set(same.tokens) == {"fr", "en"} and same.tokens["fr"] == ["suivre", "livraison"]


def test_word_vectors_encode_each_word_once() -> None:
    encoder = GlossaryEncoder()
    words = WordVectors(encoder, size=2)
    first = words(["facture", "compte"])
    again = words(["compte", "facture"])
    assert np.allclose(first[::-1], again)
    assert encoder.calls == [["compte", "facture"]]
    words(["livraison"])  # a full cache drops its oldest word ("compte")
    words(["facture"])
    assert encoder.calls[-1] == ["livraison"]
    words(["compte"])
    assert encoder.calls[-1] == ["compte"]


def test_the_bridge_makes_the_retriever_rank_the_other_language_article_first(tmp_path: Path) -> None:
    _write_kb(tmp_path / "kb")
    encoder = GlossaryEncoder()
    embedder = HashEmbedder(128)  # a lexical embedder: no cross-language match of its own
    report = build_index(tmp_path / "kb", tmp_path / "index", embedder, progress=False, terms=encoder)
    loaded = load_version(tmp_path / "index", report.version)
    assert loaded.bridge is not None and set(loaded.bridge.languages) == {"en", "fr"}
    assert loaded.manifest["term_bridge"]["encoder"] == "glossary"

    question = "Comment supprimer mon compte ?"
    plain = KBRetriever(tmp_path / "index", embedder)
    bridged = KBRetriever(tmp_path / "index", embedder, terms=encoder)
    try:
        before, after = plain.search_sync(question), bridged.search_sync(question)
    finally:
        plain.close()
        bridged.close()
    assert before.extras["bridged"] is False
    assert after.extras["bridged"] is True and after.extras["query_lang"] == "fr"
    assert after.top is not None and after.top.article_id == "account-deletion"
    assert after.extras["coverage"] == pytest.approx(1.0)  # in the article's own words
    assert after.confidence > before.confidence


def test_a_bridge_from_another_word_encoder_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write_kb(tmp_path / "kb")
    embedder = HashEmbedder(128)
    build_index(tmp_path / "kb", tmp_path / "index", embedder, progress=False, terms=GlossaryEncoder())
    other = KBRetriever(tmp_path / "index", embedder, terms=GlossaryEncoder("another"))
    try:
        with caplog.at_level(logging.WARNING, logger="kb_index.retriever"):
            first = other.search_sync("Comment supprimer mon compte ?")
            other.search_sync("Comment supprimer mon compte ?")
    finally:
        other.close()
    assert first.extras["bridged"] is False
    warnings = [r for r in caplog.records if "term bridge" in r.getMessage()]
    assert len(warnings) == 1  # said once per version, not on every question


def test_an_index_built_without_a_bridge_says_it_needs_a_rebuild(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write_kb(tmp_path / "kb")
    embedder = HashEmbedder(128)
    build_index(tmp_path / "kb", tmp_path / "index", embedder, progress=False)  # no terms
    retriever = KBRetriever(tmp_path / "index", embedder, terms=GlossaryEncoder())
    try:
        with caplog.at_level(logging.WARNING, logger="kb_index.retriever"):
            result = retriever.search_sync("Comment supprimer mon compte ?")
    finally:
        retriever.close()
    assert result.extras["bridged"] is False and result.hits  # still answers, in one language
    assert any("no term bridge" in r.getMessage() and "guichet kb index" in r.getMessage()
               for r in caplog.records)


def test_a_damaged_bridge_file_makes_the_version_unusable(tmp_path: Path) -> None:
    _write_kb(tmp_path / "kb")
    report = build_index(tmp_path / "kb", tmp_path / "index", HashEmbedder(64), progress=False,
                         terms=GlossaryEncoder())
    (report.path / "term_bridge.json").write_text('{"encoder": "glossary", "languages": {"en": {}}}')
    with pytest.raises(IndexFormatError, match="term bridge"):
        load_version(tmp_path / "index", report.version)


def test_a_rebuild_encodes_only_new_words(tmp_path: Path) -> None:
    _write_kb(tmp_path / "kb")
    encoder = GlossaryEncoder()
    build_index(tmp_path / "kb", tmp_path / "index", HashEmbedder(64), progress=False, terms=encoder)
    encoded = sum(len(c) for c in encoder.calls)
    (tmp_path / "kb" / "extra.md").write_text(
        "---\nid: extra\ntitle: Parapluie\nlang: fr\n---\nUn parapluie.\n", "utf-8")
    build_index(tmp_path / "kb", tmp_path / "index", HashEmbedder(64), progress=False, terms=encoder)
    assert sum(len(c) for c in encoder.calls) - encoded == 1  # "parapluie", from the cache otherwise
