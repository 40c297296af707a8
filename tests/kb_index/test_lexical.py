"""BM25 side of the hybrid retriever: tokenizer (accents, stop words FR/EN, plurals),
query-normalised scores, coverage, and the round trip through a version directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index import lexical
from kb_index.chunking import Chunk
from kb_index.lexical import LexicalIndex, tokenize

CHUNKS = [
    Chunk("password-reset", "title", "Reset your password"),
    Chunk("password-reset", "passage", "The reset link expires after one hour."),
    Chunk("refunds", "title", "Refunds for yearly plans"),
    Chunk("numero-tva", "question", "Où trouver le numéro de TVA intracommunautaire ?"),
]


def test_tokenizer_folds_accents_and_drops_french_and_english_stop_words() -> None:
    assert tokenize("Où trouver le numéro de TVA ?") == ["trouver", "numero", "tva"]
    assert tokenize("NUMERO de tva") == ["numero", "tva"]  # same tokens without accents
    assert tokenize("How do I reset my password?") == ["reset", "password"]
    assert tokenize("J'ai oublié l'adresse") == ["oublie", "adresse"]  # elisions split off


def test_tokenizer_makes_plurals_meet_singulars() -> None:
    assert tokenize("passwords") == tokenize("password")
    assert tokenize("refunds plans") == tokenize("refund plan")
    assert tokenize("address") == ["address"]  # a double s is not a plural
    assert tokenize("bus gas") == ["bus", "gas"]  # short words are left alone


def test_article_scores_are_normalised_by_the_query_and_zero_without_overlap() -> None:
    index = LexicalIndex.from_chunks(CHUNKS)
    scores = index.article_scores(tokenize("reset password"))
    assert set(scores) == {"password-reset"}
    assert scores["password-reset"] == pytest.approx(1.0)  # every query word matched
    half = index.article_scores(tokenize("reset banana"))["password-reset"]
    assert 0.0 < half < 0.7  # an unknown word weighs against the match
    assert index.article_scores(tokenize("quantum banana")) == {}
    assert index.article_scores([]) == {}
    # accents do not matter on either side
    assert index.article_scores(tokenize("numero TVA")) == index.article_scores(tokenize("numéro tva"))


def test_coverage_is_the_idf_weighted_share_of_query_words_in_the_article() -> None:
    index = LexicalIndex.from_chunks(CHUNKS)
    assert index.coverage(tokenize("reset password link"), "password-reset") == pytest.approx(1.0)
    assert index.coverage(tokenize("reset password"), "refunds") == 0.0
    part = index.coverage(tokenize("reset quantum"), "password-reset")
    assert 0.0 < part < 0.5  # the unknown word has the highest IDF


def test_save_and_load_give_the_same_scores(tmp_path: Path) -> None:
    built = lexical.save(tmp_path, CHUNKS)
    loaded = lexical.load(tmp_path)
    assert loaded is not None and len(loaded) == len(built) == 4
    query = tokenize("yearly refund")
    assert loaded.article_scores(query) == pytest.approx(built.article_scores(query))
    assert lexical.load(tmp_path / "older-version") is None  # built before BM25: no index


def test_an_empty_kb_scores_nothing(tmp_path: Path) -> None:
    index = lexical.save(tmp_path, [])
    assert index.article_scores(tokenize("anything")) == {}
    assert lexical.load(tmp_path) is not None
