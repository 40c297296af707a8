"""KBRetriever's hybrid ranking: fused scores, explainable features, BM25 saved in each
version, dense-only fallback for older versions, question-variant centroids, the
passage mean of prose articles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kb_index.dense_scores import DenseScorer
from kb_index.embedder import HashEmbedder
from kb_index.fusion import FusionConfig
from kb_index.retriever import KBRetriever
from kb_index.versions import build_index, load_version


def test_hit_score_is_the_fused_score_and_extras_explain_the_confidence(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    build_index(kb_dir, tmp_path / "index", embedder, progress=False)
    retriever = KBRetriever(tmp_path / "index", embedder, fusion=FusionConfig(lexical_weight=0.4))
    result = retriever.search_sync("refund for my yearly plan")
    top = result.hits[0]
    assert top.article_id == "refunds"
    extras = result.extras
    assert top.score == pytest.approx(0.6 * extras["dense"] + 0.4 * extras["lexical"], abs=1e-3)
    assert extras["lexical_top"] == "refunds" and extras["agree"] == 1.0
    assert extras["coverage"] == pytest.approx(1.0)  # refund, yearly, plan all in the article
    assert extras["top"] == round(top.score, 4) and extras["calibration"] == "hash"
    assert 0.0 < result.confidence < 1.0
    retriever.close()


def test_bm25_breaks_a_tie_the_dense_side_cannot(kb_dir: Path, tmp_path: Path) -> None:
    class Blind(HashEmbedder):
        """Every text gets the same vector: dense retrieval knows nothing."""

        def encode(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)

    blind = Blind(64)
    build_index(kb_dir, tmp_path / "index", blind, progress=False)
    hybrid = KBRetriever(tmp_path / "index", blind)
    assert hybrid.search_sync("colis commande").hits[0].article_id == "livraison"
    dense = KBRetriever(tmp_path / "index", blind, fusion=FusionConfig(lexical_weight=0.0))
    hits = dense.search_sync("colis commande").hits
    assert all(h.score == pytest.approx(1.0) for h in hits)  # BM25 weighs nothing
    ranked = [h.article_id for h in hits]
    assert ranked == sorted(ranked)  # all tied: article id order, BM25 ignored
    hybrid.close()
    dense.close()


def test_a_version_built_before_bm25_is_searched_dense_only(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    report = build_index(kb_dir, tmp_path / "index", embedder, progress=False)
    (report.path / "lexical.json").unlink()
    shutil.rmtree(report.path / "bm25")
    assert load_version(tmp_path / "index", report.version).lexical is None
    retriever = KBRetriever(tmp_path / "index", embedder)
    result = retriever.search_sync("Is delivery free?")
    assert result.hits[0].article_id == "shipping"
    assert result.hits[0].score == pytest.approx(result.extras["dense"], abs=1e-3)
    retriever.close()


def _faq_with_variants(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    rows = [{"id": "many", "question": f"question variant number {i}", "answer": "A.", "title": "Many"}
            for i in range(n)]
    rows.append({"id": "few", "question": "a lonely question", "answer": "B.", "title": "Few"})
    (root / "faq.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return root


def test_articles_with_enough_variants_get_a_centroid_mixed_into_their_score(
    tmp_path: Path, embedder: HashEmbedder
) -> None:
    kb = _faq_with_variants(tmp_path / "kb", 6)
    report = build_index(kb, tmp_path / "index", embedder, progress=False)
    loaded = load_version(tmp_path / "index", report.version)
    scorer = DenseScorer(loaded, FusionConfig(centroid_weight=0.5, centroid_min_variants=5,
                                              passage_weight=0.0))
    assert scorer.centroid_articles == ["many"]  # "few" has one variant
    vector = embedder.encode(["question variant number 3"])[0]
    plain, _ = DenseScorer(loaded, FusionConfig(centroid_weight=0.0, passage_weight=0.0)).scores(vector)
    mixed, matched = scorer.scores(vector)
    centroid = scorer.centroids[0]
    assert np.linalg.norm(centroid) == pytest.approx(1.0)
    assert mixed["many"] == pytest.approx(0.5 * plain["many"] + 0.5 * float(centroid @ vector), abs=1e-5)
    assert mixed["few"] == pytest.approx(plain["few"])
    assert matched["many"] == "question variant number 3"
    assert DenseScorer(loaded, FusionConfig(centroid_min_variants=7)).centroid_articles == []


def test_a_prose_article_gets_its_passage_mean_mixed_in_and_one_lucky_passage_no_longer_wins(
    tmp_path: Path, embedder: HashEmbedder
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    # "lucky" holds the question's words in one passage among unrelated ones; "about"
    # is about them throughout, each passage a little less close
    lucky = ["parcel tracking number email link order status"] + [
        f"unrelated garden furniture assembly instructions part {i} screws table legs" for i in range(4)]
    about = [f"parcel tracking number email order status page {w}"
             for w in ("today", "delay", "carrier", "help")]
    for name, paragraphs in (("lucky", lucky), ("about", about)):
        body = "\n\n".join(" ".join([p] * 6) for p in paragraphs)  # one passage per paragraph
        (kb / f"{name}.md").write_text(f"---\nid: {name}\ntitle: {name}\nlang: en\n---\n\n{body}\n", "utf-8")
    report = build_index(kb, tmp_path / "index", embedder, progress=False)
    loaded = load_version(tmp_path / "index", report.version)
    vector = embedder.encode(["parcel tracking number email link order status"])[0]
    plain, _ = DenseScorer(loaded, FusionConfig(passage_weight=0.0)).scores(vector)
    assert max(plain, key=plain.__getitem__) == "lucky"
    scorer = DenseScorer(loaded, FusionConfig(passage_weight=0.35))
    assert scorer.passage_articles == ["about", "lucky"]
    mixed, _ = scorer.scores(vector)
    mean = scorer.passage_means[1]
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    assert mixed["lucky"] == pytest.approx(0.65 * plain["lucky"] + 0.35 * float(mean @ vector), abs=1e-5)
    assert max(mixed, key=mixed.__getitem__) == "about"
