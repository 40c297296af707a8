"""Index-time self-calibration (hash embedder): the held-out scorer computes the live
retriever's features, the KB's own questions are held out from where they came from,
the calibration is stored in the version and used by the retriever, and a re-index
recalibrates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb_index.calibration import FEATURES, Calibration
from kb_index.chunking import chunk_articles
from kb_index.embedder import HashEmbedder, encode_queries
from kb_index.feedback_fit import load_model, save_model
from kb_index.fusion import PASSAGE_WEIGHT, FusionConfig
from kb_index.held_out_scores import HeldOutScorer, Probe
from kb_index.language import detect
from kb_index.pseudo_queries import offtopic_questions, pseudo_queries
from kb_index.retriever import KBRetriever
from kb_index.self_calibration import CALIBRATION_FILE, DEFAULT_REFERENCE, NORMALISED, SELF_E5
from kb_index.sources import load_sources
from kb_index.versions import build_index, current_version, load_current

SAMPLE_KB = Path(__file__).resolve().parents[2] / "examples" / "kb"
QUESTIONS = ["How do I reset my password?", "Comment créer un avoir ?", "What is the weather like?",
             "API key", "Où est ma commande ?", "refund yearly plan"]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("selfcal")
    build_index(SAMPLE_KB, index, HashEmbedder(), progress=False, self_calibrate=True)
    return index


def test_the_held_out_scorer_computes_the_retrievers_features_when_nothing_is_held_out(
    sample_index: Path,
) -> None:
    """(The version is self-calibrated: both mix the prose articles' passage means in.)"""
    embedder = HashEmbedder()
    retriever = KBRetriever(sample_index, embedder)
    loaded = retriever.loaded
    assert loaded is not None
    scorer = HeldOutScorer(loaded, FusionConfig())
    try:
        for text, vector in zip(QUESTIONS, encode_queries(embedder, QUESTIONS), strict=True):
            result = retriever.search_encoded(text, vector)
            top, features = scorer.features(vector, Probe(text, detect(text, default="")))
            assert result.top is not None and top == result.top.article_id
            for name in FEATURES:
                assert features[name] == pytest.approx(result.extras[name], abs=1e-3), (text, name)
    finally:
        retriever.close()


def test_a_kb_question_may_not_match_the_chunk_it_came_from() -> None:
    articles = load_sources(SAMPLE_KB).articles
    chunks = chunk_articles(articles)
    queries = pseudo_queries(articles, chunks)
    assert {q.kind for q in queries} == {"question", "sentence"}
    for query in queries:
        assert query.held_out and all(chunks[r].article_id == query.article_id for r in query.held_out)
        held_text = " ".join(" ".join(chunks[r].text.split()) for r in query.held_out)
        assert query.text.split()[0] in held_text  # it came from there
        own_rows = [r for r, c in enumerate(chunks) if c.article_id == query.article_id]
        assert len(own_rows) > len(query.held_out)  # the article keeps something to be found by
    assert queries == pseudo_queries(articles, chunks)  # deterministic


def test_a_held_out_question_scores_lower_and_a_left_out_article_is_never_found(sample_index: Path) -> None:
    loaded = load_current(sample_index)
    assert loaded is not None
    articles = load_sources(SAMPLE_KB).articles
    chunks = [loaded.vectors.row(i) for i in range(len(loaded.vectors))]
    query = next(q for q in pseudo_queries(articles, chunks) if q.kind == "question")
    scorer = HeldOutScorer(loaded, FusionConfig())
    vector = encode_queries(HashEmbedder(), [query.text])[0]
    top_all, seen = scorer.features(vector, Probe(query.text, "en"))
    _, held = scorer.features(vector, Probe(query.text, "en", query.held_out))
    top_left, _ = scorer.features(vector, Probe(query.text, "en", excluded=query.article_id))
    assert top_all == query.article_id and seen["top"] > held["top"]
    assert top_left != query.article_id


def test_the_version_stores_its_calibration_and_the_retriever_uses_it(sample_index: Path) -> None:
    version = current_version(sample_index)
    assert version is not None
    assert (sample_index / "versions" / version / CALIBRATION_FILE).is_file()
    loaded = load_current(sample_index)
    assert loaded is not None and loaded.calibration is not None
    calibration = loaded.calibration
    assert dict(calibration.weights) == dict(SELF_E5.weights)
    assert set(calibration.reference) == set(NORMALISED)
    for low, high in calibration.reference.values():
        assert low < high  # off-topic questions score below the KB's own, on every feature
    assert loaded.manifest["self_calibration"]["queries"] >= 30
    assert loaded.passage_weight == PASSAGE_WEIGHT  # calibrated with the passage mean, searched with it
    retriever = KBRetriever(sample_index, HashEmbedder())
    try:
        result = retriever.search_sync("How do I reset my password?")
        assert result.extras["calibration"] == calibration.name
        assert result.confidence == pytest.approx(calibration.confidence(result.extras))
        fixed = KBRetriever(sample_index, HashEmbedder(), calibration=Calibration(0.0, {}, "fixed"))
        assert fixed.search_sync("How do I reset my password?").confidence == 0.5  # given wins
        fixed.close()
    finally:
        retriever.close()


def test_the_hash_embedder_keeps_its_hand_set_calibration_unless_asked(tmp_path: Path, kb_dir: Path) -> None:
    build_index(kb_dir, tmp_path / "index", HashEmbedder(), progress=False)
    loaded = load_current(tmp_path / "index")
    assert loaded is not None and loaded.calibration is None
    assert loaded.passage_weight == 0.0  # its hand-set calibration was set without the passage mean


def test_a_tiny_kb_gets_the_default_reference(tmp_path: Path, kb_dir: Path) -> None:
    build_index(kb_dir, tmp_path / "index", HashEmbedder(), progress=False, self_calibrate=True)
    loaded = load_current(tmp_path / "index")
    assert loaded is not None and loaded.calibration is not None
    assert loaded.calibration.reference == DEFAULT_REFERENCE
    assert loaded.manifest["self_calibration"]["fallback"] is True


def test_a_reindex_recalibrates_with_the_kept_feedback_weights(tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(SAMPLE_KB, index, HashEmbedder(), progress=False, self_calibrate=True)
    first = load_current(index)
    kept = Calibration(-1.0, {"top": 2.0, "margin": 1.0}, "with feedback")
    save_model(index, kept)
    assert load_model(index) == kept
    build_index(SAMPLE_KB, index, HashEmbedder(), progress=False, self_calibrate=True)
    second = load_current(index)
    assert first is not None and second is not None and second.version != first.version
    assert second.calibration is not None and dict(second.calibration.weights) == dict(kept.weights)
    assert second.calibration.reference == first.calibration.reference if first.calibration else False


def test_calibration_round_trips_through_json() -> None:
    calibration = Calibration(-1.5, {"top": 1.0, "dense_agree": 0.5}, "x", {"top": (0.1, 0.5)})
    assert Calibration.from_dict(calibration.to_dict()) == calibration
    assert calibration.normalised({"top": 0.3})["top"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        Calibration.from_dict({"weights": {"top": 1.0}})


def test_offtopic_questions_are_shipped_in_both_languages() -> None:
    questions = offtopic_questions()
    langs = [detect(q, default="") for q in questions]
    assert len(questions) >= 190
    assert langs.count("fr") >= 80 and langs.count("en") >= 80
    assert len(set(questions)) == len(questions)
    assert np.all([len(q.split()) >= 2 for q in questions])
