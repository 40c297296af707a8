"""Index-time self-calibration: a confidence that means the same on any knowledge base.

The retriever's evidence (fused score, margin, lift, word coverage) lives on a scale
that depends on the knowledge base's *shape*: FAQ question variants give a
question-like text to match, prose articles do not, so a right answer on a prose KB
scores lower than a wrong one on an FAQ KB.  A calibration fitted on one KB
(:data:`kb_index.calibration.E5`, fitted on the sample) then answers too little on
another (issue 10: 0.42 coverage on a prose KB it never saw, although its top
article was right 87 % of the time).

So each index version measures its own scale when it is built, with no labelled
case:

- the KB's own questions (:mod:`kb_index.pseudo_queries`: question variants and
  body sentences, each held out from the chunk it came from) are scored as the live
  retriever would (:mod:`kb_index.held_out_scores`); their mean feature values are
  the ``high`` end of the scale, what "a question this KB answers" looks like here;
- generic off-topic questions shipped with the code (French and English) are scored
  the same way; their mean is the ``low`` end, what "nothing here" looks like.

Each of :data:`NORMALISED` is then read as ``(value - low) / (high - low)``, and the
confidence is a logistic regression on those KB-relative features
(:data:`SELF_E5`), fitted once on labelled cases of the knowledge bases used for
development (the sample, ``examples/eval/admin`` and ``shop``, ``examples/dev/*``) and
shipped: the weights carry what separates right from wrong, the reference carries
the KB's scale.  Fitting the weights on the self-supervised queries themselves was
measured and rejected: a body sentence out of context finds its own article only a
third of the time, so their labels say little about real questions
(docs/answer-quality.md).

The calibration is stored in the version (``calibration.json``), so a hot re-index
recalibrates and swaps it atomically with the rest; ``guichet kb calibrate``
refines it from production feedback (:mod:`kb_index.feedback_fit`).  Vectors of
the queries go through the embedding cache: a rebuild encodes only new sentences.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb_index.calibration import Calibration
from kb_index.embed_cache import EmbeddingCache, embed_texts
from kb_index.embedder import Embedder, encode_queries
from kb_index.fusion import FusionConfig
from kb_index.held_out_scores import HeldOutScorer, Probe
from kb_index.language import detect
from kb_index.pseudo_queries import PseudoQuery, offtopic_questions, offtopic_sample, pseudo_queries
from kb_index.sources import Article
from kb_index.term_bridge import WordVectors

if TYPE_CHECKING:
    from kb_index.versions import LoadedIndex

CALIBRATION_FILE = "calibration.json"
NORMALISED = ("top", "margin", "lift", "coverage")
MIN_QUERIES = 20  # fewer held-out KB questions: the shipped default reference is used

# Fitted on the labelled cases of the development KBs: examples/cases*.jsonl (the
# sample), examples/eval/admin and shop, examples/dev/transit, insurance and campus
# (e5 + term bridge, default fusion with the passage mean of prose articles,
# kb_index.fusion.PASSAGE_WEIGHT, translated pairs ranked as one: kb_index.twins),
# features on each KB's own reference, each KB's candidate cases weighing the same;
# the bias then set so that the default threshold 0.70 gives 92 % precision on them
# together.  Leave-one-KB-out (weights and bias fitted on five, measured on the sixth)
# in docs/answer-quality.md.  Reproduce:
#   python -m bench.self_calibration collect KB CASES OUT --index DIR   (each KB)
#   python -m bench.self_calibration fit OUT...
# BM25's agreement on the top article is left out (the fused score and the coverage
# already hold it).
SELF_E5 = Calibration(
    bias=-1.411,
    weights={"top": 0.829, "margin": 0.791, "lift": 0.316, "coverage": 0.139, "dense_agree": 1.014},
    name="self-calibrated",
)
# SELF_E5's bias minus that of the same fit read as a probability (-1.511): the default
# threshold 0.70 stands for "92 % precision on the development KBs", not for a 70 %
# probability.  A refit from production feedback (kb_index.feedback_fit) fits
# probabilities, then adds it back.
DECISION_OFFSET = 0.1
# The reference a KB too small to measure gets: the mean of the development KBs'.
DEFAULT_REFERENCE: Mapping[str, tuple[float, float]] = {
    "top": (0.145, 0.4542), "margin": (0.0278, 0.0898), "lift": (0.0544, 0.1517),
    "coverage": (0.1431, 0.4691),
}


@dataclass(frozen=True, slots=True)
class SelfCalibration:
    """What a build measured: the calibration and how it was obtained."""

    calibration: Calibration
    queries: int  # held-out KB questions scored
    offtopic: int  # off-topic questions scored
    own_first: float  # share of the held-out questions whose own article came first
    seconds: float
    fallback: bool  # True: too few questions, the default reference was used
    offtopic_level: float = 0.0  # see offtopic_level()

    def to_dict(self) -> dict[str, Any]:
        return {"calibration": self.calibration.to_dict(), "queries": self.queries,
                "offtopic": self.offtopic, "own_first": round(self.own_first, 4),
                "seconds": round(self.seconds, 3), "fallback": self.fallback,
                "offtopic_level": round(self.offtopic_level, 6)}


@dataclass(frozen=True, slots=True)
class ScoredQueries:
    """The raw features of every self-supervised query (for measurements)."""

    held_out: Sequence[tuple[PseudoQuery, str, Mapping[str, float]]]  # query, top article, features
    left_out: Sequence[tuple[PseudoQuery, str, Mapping[str, float]]]  # same, own article left out
    offtopic: Sequence[tuple[str, str, Mapping[str, float]]]


class _QuerySide:
    """An embedder seen from the question side, named apart in the embedding cache."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return f"{self.inner.name}\0query"

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return encode_queries(self.inner, texts)


_symmetric: dict[str, bool] = {}
_offtopic_vectors: dict[str, np.ndarray] = {}  # per embedder name, for this process
_memo_lock = threading.Lock()


def _is_symmetric(
    embedder: Embedder, queries: Sequence[PseudoQuery], loaded: LoadedIndex, cache: EmbeddingCache | None
) -> bool:
    """Questions and indexed texts are encoded alike (a question variant's chunk
    vector is then its question vector).  Told by encoding one variant as a question
    through the embedding cache and comparing it with its stored chunk vector, so a
    rebuild with the cache warm need not load the model for it."""
    if not callable(getattr(embedder, "encode_queries", None)):
        return True
    with _memo_lock:
        known = _symmetric.get(embedder.name)
    if known is not None:
        return known
    probe = next((q for q in queries if q.row is not None), None)
    if probe is None or probe.row is None:
        return False  # nothing to reuse anyway
    ids, matrix = loaded.vectors.all_vectors()
    stored = matrix[int(np.flatnonzero(ids == probe.row)[0])]
    asked = embed_texts(_QuerySide(embedder), [probe.text], cache).vectors[0]
    known = bool(np.allclose(stored, asked, atol=1e-4))
    with _memo_lock:
        _symmetric[embedder.name] = known
    return known


def _query_vectors(
    embedder: Embedder, queries: Sequence[PseudoQuery], loaded: LoadedIndex, cache: EmbeddingCache | None
) -> np.ndarray:
    side = _QuerySide(embedder)
    reuse = _is_symmetric(embedder, queries, loaded, cache)
    vectors = np.zeros((len(queries), loaded.vectors.dim), dtype=np.float32)
    todo = [i for i, q in enumerate(queries) if not (reuse and q.row is not None)]
    if reuse:
        ids, matrix = loaded.vectors.all_vectors()
        by_row = {int(r): i for i, r in enumerate(ids.tolist())}
        for i, q in enumerate(queries):
            if q.row is not None:
                vectors[i] = matrix[by_row[q.row]]
    if todo:
        vectors[todo] = embed_texts(side, [queries[i].text for i in todo], cache).vectors
    return vectors


def _offtopic(embedder: Embedder, texts: Sequence[str], cache: EmbeddingCache | None) -> np.ndarray:
    with _memo_lock:
        memo = _offtopic_vectors.get(embedder.name)
    if memo is not None and len(memo) == len(texts):
        return memo
    vectors = embed_texts(_QuerySide(embedder), list(texts), cache).vectors
    with _memo_lock:
        _offtopic_vectors[embedder.name] = vectors
    return vectors


def score_queries(
    loaded: LoadedIndex,
    articles: Sequence[Article],
    embedder: Embedder,
    *,
    terms: Embedder | None = None,
    cache: EmbeddingCache | None = None,
    fusion: FusionConfig | None = None,
) -> ScoredQueries:
    """Every self-supervised query of the KB, scored with the live retriever's features."""
    chunks = [loaded.vectors.row(i) for i in range(len(loaded.vectors))]
    queries = pseudo_queries(articles, chunks)
    scorer = HeldOutScorer(loaded, fusion or FusionConfig(),
                           word_vectors=WordVectors(terms) if terms is not None else None)
    vectors = _query_vectors(embedder, queries, loaded, cache) if queries else np.zeros((0, 0))
    texts = offtopic_questions()
    scorer.prepare([q.text for q in queries] + list(texts), cache)
    held, left = [], []
    for query, vector in zip(queries, vectors, strict=True):
        lang = detect(query.text, default="")
        held.append((query, *scorer.features(vector, Probe(query.text, lang, query.held_out))))
        left.append((query, *scorer.features(vector, Probe(query.text, lang, excluded=query.article_id))))
    off_vectors = _offtopic(embedder, texts, cache)
    offtopic = [(t, *scorer.features(v, Probe(t, detect(t, default=""))))
                for t, v in zip(texts, off_vectors, strict=True)]
    return ScoredQueries(held, left, offtopic)


def reference_of(scored: ScoredQueries) -> dict[str, tuple[float, float]] | None:
    """(low, high) per normalised feature: the off-topic mean, the held-out mean;
    None when the KB gave too few questions to tell."""
    if len(scored.held_out) < MIN_QUERIES or not scored.offtopic:
        return None
    reference = {}
    for name in NORMALISED:
        low = float(np.mean([f[name] for _, _, f in scored.offtopic]))
        high = float(np.mean([f[name] for _, _, f in scored.held_out]))
        reference[name] = (round(low, 4), round(high, 4))
    return reference


def offtopic_level(scored: ScoredQueries) -> float:
    """The score above which an article is plausible for a message with no word in
    common (:mod:`gateway.flow.plausible`): the best score of the off-topic sample
    (:func:`kb_index.pseudo_queries.offtopic_sample`), plus its distance from their
    median; 0.0 when they find nothing.  Measured here, at build time, from the scores
    the calibration already computed, instead of by searches at the first clarifying
    question."""
    sample = set(offtopic_sample())
    tops = [f["top"] for text, _, f in scored.offtopic if text in sample]
    if not tops:
        return 0.0
    highest = max(tops)
    return highest + (highest - float(np.median(tops)))


def self_calibrate(
    loaded: LoadedIndex,
    articles: Sequence[Article],
    embedder: Embedder,
    *,
    terms: Embedder | None = None,
    cache: EmbeddingCache | None = None,
    fusion: FusionConfig | None = None,
    model: Calibration = SELF_E5,
) -> SelfCalibration:
    """The calibration of one index version: ``model``'s weights on the KB's own scale."""
    started = time.monotonic()
    scored = score_queries(loaded, articles, embedder, terms=terms, cache=cache, fusion=fusion)
    reference = reference_of(scored)
    own = [top == q.article_id for q, top, _ in scored.held_out]
    calibration = Calibration(model.bias, model.weights, model.name,
                              reference if reference is not None else DEFAULT_REFERENCE)
    return SelfCalibration(calibration, len(scored.held_out), len(scored.offtopic),
                           float(np.mean(own)) if own else 0.0, time.monotonic() - started,
                           reference is None, offtopic_level(scored))


def save(directory: str | Path, result: SelfCalibration) -> None:
    Path(directory, CALIBRATION_FILE).write_text(json.dumps(result.to_dict(), indent=1), "utf-8")


def load(directory: str | Path) -> Calibration | None:
    """The calibration stored in a version directory, or None (built without one)."""
    path = Path(directory) / CALIBRATION_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text("utf-8"))
    return Calibration.from_dict(data["calibration"])
