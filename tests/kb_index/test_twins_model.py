"""Translated articles with the default embedder (examples/dev/transit: eight topics in
French and English, six of them translated pairs): a question gets the article in its own
language, the translation is not offered as a second suggestion, and the confidence is
not held down by a near-zero margin between the two translations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_index.embedder import make_embedder, make_term_encoder
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index

pytestmark = pytest.mark.model

KB = Path(__file__).resolve().parents[2] / "examples" / "dev" / "transit" / "kb"
PAIRS = {("monthly-pass", "abonnement-mensuel"), ("refund-ticket", "remboursement-titre"),
         ("lost-property", "objets-trouves"), ("fines-appeal", "amende-contestation"),
         ("student-discount", "tarif-etudiant"), ("bikes-on-board", "velo-a-bord")}


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KBRetriever]:
    index = tmp_path_factory.mktemp("twins")
    embedder, terms = make_embedder("e5", "", 2), make_term_encoder("use")
    build_index(KB, index, embedder, progress=False, terms=terms)
    found = KBRetriever(index, embedder, terms=terms)
    yield found
    found.close()


def test_the_kb_translated_pairs_are_found(retriever: KBRetriever) -> None:
    loaded = retriever.loaded
    assert loaded is not None
    twins = retriever.twins_of(loaded)
    assert {(en, fr) for en, fr in twins.items() if loaded.article_lang[en] == "en"} == PAIRS


@pytest.mark.parametrize(("text", "expected"), [
    ("on m'a oublié mon sac à dos dans le tram hier soir", "objets-trouves"),
    ("left my gloves on the number 5 bus", "lost-property"),
    ("comment je fais pour avoir le tarif réduit à la fac", "tarif-etudiant"),
    ("can I still get my money back for a ticket I never used", "refund-ticket"),
])
def test_a_question_gets_its_own_language_and_not_the_translation_as_well(
    retriever: KBRetriever, text: str, expected: str
) -> None:
    result = retriever.search_sync(text, k=3)
    ids = [hit.article_id for hit in result.hits]
    assert ids[0] == expected
    twin = next(a for pair in PAIRS for a in pair if expected in pair and a != expected)
    assert twin not in ids
    assert result.extras["margin"] > 0.05  # against another topic, not the translation
