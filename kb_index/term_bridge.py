"""Cross-language lexical evidence: a question's words, translated into the words of
the knowledge base's other language.

BM25 only sees words, so a French question gets no lexical evidence for an English
article, and the fused score (:mod:`kb_index.fusion`) and the lexical features of
the confidence (``agree``, ``coverage``: :mod:`kb_index.calibration`) then favour
a same-language article on a neighbouring topic.  On the sample KB that sent 16 of
the 22 cross-language dev questions to the wrong article, although the dense
scores alone put the right one in the top 3 for 17 of them.

The bridge is a bilingual lexicon induced by a multilingual word encoder (no
dictionary, no translation model): at index time, every word of the knowledge base
is encoded, per article language (the *vocabulary*: each BM25 token with its most
frequent spelling).  At query time, each content word of the question is encoded
and replaced, for every other language of the KB, by the nearest vocabulary word
of that language when their cosine is at least :data:`MIN_SIMILARITY` ("facture"
gives "invoice", "abonnement" gives "subscription").  A word with no such match
keeps its own token, which the KB does not hold: it still weighs in the query's
IDF mass, so an out-of-scope question still reads as "nothing here".  BM25 then
scores the articles of that language with the translated tokens.

The word encoder is Universal Sentence Encoder multilingual (fast, and its single
words align across languages far better than E5's: "facture" to "invoice" 0.84,
to the next English word 0.63, where E5 gives 0.88 to "tax", "vat" and "invoice"
alike).  Saved in an index version as ``term_bridge.npz`` plus ``term_bridge.json``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb_index.chunking import Chunk
from kb_index.embed_cache import EmbeddingCache, embed_texts
from kb_index.embedder import Embedder
from kb_index.lexical import LexicalIndex, tokenize

BRIDGE_META = "term_bridge.json"
BRIDGE_VECTORS = "term_bridge.npz"
# Cosine from which a KB word is taken as the translation of a question word.
# Measured on the sample (USE, examples/cases.jsonl): 0.65, 0.70 and 0.75 put 14, 15
# and 15 of the 22 cross-language dev questions' articles first (6 without the
# bridge); right translations score 0.8-0.97, the next candidates 0.4-0.7.
MIN_SIMILARITY = 0.7
WORD_CACHE_SIZE = 20_000  # question words whose vectors are kept in memory
_WORD = re.compile(r"[^\W\d_]+|\d+")


def content_words(text: str) -> list[str]:
    """The question's words that BM25 would keep (lower case, accents kept: the
    encoder reads "numérotées" better than the folded "numerotees")."""
    return [w for w in _WORD.findall(text.lower()) if tokenize(w)]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One language's KB words: BM25 tokens, their usual spelling, unit vectors."""

    tokens: tuple[str, ...]
    surfaces: tuple[str, ...]
    vectors: np.ndarray


def vocabularies(
    chunks: Iterable[Chunk], article_lang: Mapping[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """Per article language: (token, most frequent spelling) pairs, sorted by token.
    Articles without a language are left out (nothing to translate into)."""
    spellings: dict[tuple[str, str], Counter[str]] = {}
    for chunk in chunks:
        lang = article_lang.get(chunk.article_id, "")
        if not lang:
            continue
        for word in content_words(chunk.text):
            spellings.setdefault((lang, tokenize(word)[0]), Counter())[word] += 1
    result: dict[str, list[tuple[str, str]]] = {}
    for (lang, token), counts in sorted(spellings.items()):
        # most frequent spelling; ties to the alphabetically first, for stable builds
        spelling = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        result.setdefault(lang, []).append((token, spelling))
    return result


class TermBridge:
    """The vocabularies of one index version, and the translation of questions."""

    def __init__(self, encoder_name: str, vocab: Mapping[str, Vocabulary]) -> None:
        self.encoder_name = encoder_name
        self.vocab = dict(vocab)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.vocab))

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        article_lang: Mapping[str, str],
        encoder: Embedder,
        cache: EmbeddingCache | None = None,
    ) -> TermBridge:
        """Encode every KB word (through the embedding cache, so a rebuild encodes
        only words it has not seen)."""
        vocab = {}
        for lang, pairs in vocabularies(chunks, article_lang).items():
            surfaces = [s for _, s in pairs]
            vectors = embed_texts(encoder, surfaces, cache).vectors
            vocab[lang] = Vocabulary(tuple(t for t, _ in pairs), tuple(surfaces), vectors)
        return cls(encoder.name, vocab)

    def translate(self, words: Sequence[str], vectors: np.ndarray, target: str) -> list[str]:
        """Tokens for ``target``-language articles: each word's nearest ``target``
        KB word when close enough, else the word's own token."""
        vocab = self.vocab.get(target)
        if vocab is None or not len(vocab.tokens) or not words:
            return [tokenize(w)[0] for w in words]
        similarity = vectors @ vocab.vectors.T
        best = similarity.argmax(axis=1)
        return [
            vocab.tokens[int(j)] if similarity[i, j] >= MIN_SIMILARITY else tokenize(word)[0]
            for i, (word, j) in enumerate(zip(words, best.tolist(), strict=True))
        ]

    # ------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        meta = {
            "encoder": self.encoder_name,
            "languages": {
                lang: {"tokens": list(v.tokens), "surfaces": list(v.surfaces)}
                for lang, v in self.vocab.items()
            },
        }
        (directory / BRIDGE_META).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        arrays: dict[str, Any] = {lang: v.vectors for lang, v in self.vocab.items()}
        np.savez(directory / BRIDGE_VECTORS, **arrays)

    @classmethod
    def load(cls, directory: str | Path) -> TermBridge | None:
        """The saved bridge, or None for a version built without one."""
        directory = Path(directory)
        if not (directory / BRIDGE_META).is_file():
            return None
        meta = json.loads((directory / BRIDGE_META).read_text("utf-8"))
        with np.load(directory / BRIDGE_VECTORS) as arrays:
            vocab = {
                lang: Vocabulary(tuple(entry["tokens"]), tuple(entry["surfaces"]),
                                 np.asarray(arrays[lang], dtype=np.float32))
                for lang, entry in meta["languages"].items()
            }
        for lang, v in vocab.items():
            if len(v.tokens) != len(v.surfaces) or v.vectors.shape[0] != len(v.tokens):
                raise ValueError(
                    f"term bridge: {lang} has {len(v.tokens)} words but {v.vectors.shape[0]} vectors"
                )
        return cls(str(meta["encoder"]), vocab)


class WordVectors:
    """Question-word vectors from the bridge's encoder, the most recent kept in memory
    (the same words come back question after question)."""

    def __init__(self, encoder: Embedder, size: int = WORD_CACHE_SIZE) -> None:
        self.encoder = encoder
        self.size = size
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = {w: self._cache[w] for w in words if w in self._cache}
        todo = sorted(set(words) - set(known))
        if todo:
            fresh = dict(zip(todo, self.encoder.encode(todo), strict=True))
            known.update(fresh)
            with self._lock:
                for word, vector in fresh.items():
                    if len(self._cache) >= self.size:
                        self._cache.pop(next(iter(self._cache)))  # the oldest entry
                    self._cache[word] = vector
        return np.stack([known[w] for w in words]) if words else np.zeros((0, 0), np.float32)


@dataclass(frozen=True, slots=True)
class BridgedLexical:
    """Lexical evidence of one question over a multilingual KB."""

    scores: dict[str, float]  # article -> 0..1, each article scored in its own language
    tokens: dict[str, list[str]]  # language -> the question's tokens in that language
    query_tokens: list[str]  # the question's own tokens

    def tokens_for(self, lang: str) -> list[str]:
        """The question's tokens for an article in ``lang`` (its own when not translated)."""
        return self.tokens.get(lang, self.query_tokens)


def bridged_scores(
    lexical: LexicalIndex,
    article_lang: Mapping[str, str],
    text: str,
    query_lang: str,
    bridge: TermBridge | None,
    word_vectors: WordVectors | None,
) -> BridgedLexical:
    """BM25 scores per article, an article in another language than the question
    being scored with the question translated into its language (the better of the
    two when the original words match too: "API", "CSV", product names)."""
    tokens = tokenize(text)
    scores = lexical.article_scores(tokens)
    by_lang = {query_lang: tokens} if query_lang else {}
    others = [lang for lang in (bridge.languages if bridge else ()) if lang != query_lang]
    if not query_lang or bridge is None or word_vectors is None or not others:
        return BridgedLexical(scores, by_lang, tokens)
    words = content_words(text)
    if not words:
        return BridgedLexical(scores, by_lang, tokens)
    vectors = word_vectors(words)
    merged = dict(scores)
    for lang in others:
        translated = bridge.translate(words, vectors, lang)
        by_lang[lang] = translated
        for article_id, score in lexical.article_scores(translated).items():
            if article_lang.get(article_id, "") == lang:
                merged[article_id] = max(score, scores.get(article_id, 0.0))
    return BridgedLexical(merged, by_lang, tokens)
