"""Cross-language retrieval with the default multilingual embedder on the sample KB:
French questions about English articles and the reverse (the ``xlang`` dev cases).

Figures behind the rates asserted here: docs/cross-language.md.  all-MiniLM-L6-v2,
the previous default, gets 1 of 22 first and 4 of 22 in the top 3 on these cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_index.embedder import Embedder, make_embedder
from kb_index.evaluate import Case, load_cases
from kb_index.fusion import FusionConfig
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KIND = "e5"  # the recommended kb.embedder (docs/cross-language.md)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder(DEFAULT_KIND, "", 2)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    index = tmp_path_factory.mktemp("xlang-index")
    report = build_index(ROOT / "examples" / "kb", index, embedder, strict=True, progress=False)
    assert report.errors == ()
    return index


@pytest.fixture(scope="module")
def xlang() -> list[Case]:
    cases = [c for c in load_cases(ROOT / "examples" / "cases.jsonl") if c.kind == "xlang"]
    assert len(cases) >= 20
    return cases


@pytest.fixture(scope="module")
def dense(index_dir: Path, embedder: Embedder) -> Iterator[KBRetriever]:
    retriever = KBRetriever(index_dir, embedder, fusion=FusionConfig(lexical_weight=0.0))
    yield retriever
    retriever.close()


def _rates(retriever: KBRetriever, cases: list[Case]) -> tuple[float, float]:
    top1 = top3 = 0
    for case in cases:
        ids = [hit.article_id for hit in retriever.search_sync(case.text, k=3).hits]
        top1 += bool(ids) and ids[0] == case.expected
        top3 += case.expected in ids
    return top1 / len(cases), top3 / len(cases)


def test_a_question_in_one_language_finds_the_article_in_the_other(
    dense: KBRetriever, xlang: list[Case]
) -> None:
    top1, top3 = _rates(dense, xlang)
    # measured: 9/22 first, 17/22 in the top 3 (dense retrieval, e5 language-centred)
    assert top1 >= 0.35, f"top-1 {top1:.0%}"
    assert top3 >= 0.70, f"top-3 {top3:.0%}"


def test_french_question_on_an_english_article_scores_like_a_same_language_match(
    dense: KBRetriever,
) -> None:
    fr = dense.search_sync("Comment créer une clé API ?", k=3)
    en = dense.search_sync("How do I create an API key?", k=3)
    assert fr.top is not None and fr.top.article_id == "api-keys"
    assert en.top is not None and en.top.article_id == "api-keys"
    assert fr.top.score > 0.8 * en.top.score


def test_english_question_on_a_french_article(dense: KBRetriever) -> None:
    result = dense.search_sync("How do I import my product catalogue from a CSV file?", k=3)
    assert result.top is not None and result.top.article_id == "import-catalogue"


async def test_cross_language_dev_cases_are_answered_by_the_default_bot() -> None:
    """Acceptance: French questions on English articles and the reverse are ANSWERED
    (not only found) at the configured threshold, through the bot's own decision, with
    the default settings: e5, the term bridge, the shipped calibration and policy."""
    from gateway.config import Settings
    from gateway.flow.policy import PolicyConfig
    from gateway.kb.evaluate import evaluate_with
    from kb_index.embedder import make_term_encoder
    from kb_index.evaluate import temporary_index

    settings = Settings()
    embedder = make_embedder(settings.kb.embedder, settings.kb.model, 2)
    terms = make_term_encoder(settings.kb.term_bridge)
    assert terms is not None, "the term bridge is on by default"
    policy = PolicyConfig.from_settings(settings.bot)
    kb, cases = ROOT / "examples" / "kb", ROOT / "examples" / "cases.jsonl"
    async with temporary_index(kb, embedder, terms=terms) as (retriever, build):
        bridged = (await evaluate_with(retriever, build, kb, cases, [policy.answer_threshold],
                                       policy=policy))[0].by_kind["xlang"]
        unbridged = KBRetriever(retriever.index_dir, embedder)  # the same index, bridge unused
        try:
            plain = (await evaluate_with(unbridged, build, kb, cases, [policy.answer_threshold],
                                         policy=policy))[0].by_kind["xlang"]
        finally:
            unbridged.close()
    # measured: 12 of 22 answered, 11 of them right; without the bridge 3 answered.
    # Self-calibrated (issue 10), the unbridged retriever reads the version's scale,
    # measured with the bridge: it answers 6, only 2 of them right.  With the passage
    # mean and the weights fitted on six development KBs (stop 15): 15 answered, 12 right
    # (the sample's dev cases overall: 0.908 precision at 0.785 coverage).
    assert bridged.answered_answerable >= 10, bridged
    assert bridged.precision is not None and bridged.precision >= 0.80, bridged
    assert plain.correct <= 3, plain
