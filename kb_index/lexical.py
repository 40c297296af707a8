"""BM25 over the same chunks as the vector index (``bm25s``), French and English.

Tokenizer: lower case, accents folded (``é`` = ``e``, so "numéro" and "numero"
match), apostrophes and punctuation split words ("l'adresse" gives "adresse"),
French and English stop words dropped, and a light plural rule (a trailing ``s``
or ``x`` of a word of more than three letters, not ``ss``, is cut) so "passwords"
finds "password" and "factures" finds "facture".  The rule is applied to the
knowledge base and to the question alike, so a word it mangles ("colis" becomes
"coli") still matches itself.

Scores are per document (one document = one chunk: a title, a question variant or
a passage).  :meth:`LexicalIndex.coverage_norm` turns a raw BM25 score into a
query-relative one: the share of the query's IDF mass that the document matched,
where a query word unknown to the KB weighs as much as the rarest word.  That is
what lets a lexical score say "nothing here" for an out-of-scope question, which a
per-query max normalisation cannot.

Saved inside an index version as ``bm25/`` (the ``bm25s`` files) plus
``lexical.json`` (each document's article id and tokens).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from kb_index.chunking import Chunk
from kb_index.language import fold

BM25_DIR = "bm25"
LEXICAL_FILE = "lexical.json"
K1 = 1.2
B = 0.75

_EN = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves im ive id dont cant s t
ll re ve d m please hi hello thanks get got
"""
_FR = """
a ai aie aient aies ait as au aura aurai aurais aurait aux avaient avais avait avec avez aviez
avons ayez ayons c ce ceci cela ces cet cette d dans de des du elle elles en es est et etaient
etais etait etes ete eu eue eues eus eut furent fut il ils j je l la le les leur leurs lui m ma
mais me meme mes moi mon n ne nos notre nous on ont ou par pas pour qu que quel quelle quelles
quels qui s sa sans se sera serai serais serait ses si soit sommes son sont sa suis sur t ta te
tes toi ton tu un une vos votre vous y comment est-ce ca bonjour merci svp puis peux peut
"""
STOPWORDS = frozenset((_EN + _FR).split())


def _stem(word: str) -> str:
    if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Folded, stop-word-free, lightly stemmed tokens of ``text``."""
    return [_stem(w) for w in fold(text).split() if w not in STOPWORDS]


class LexicalIndex:
    """BM25 over documents, each mapped to an article id."""

    def __init__(
        self, article_ids: Sequence[str], tokens: Sequence[Sequence[str]], bm25: bm25s.BM25 | None = None
    ) -> None:
        if len(article_ids) != len(tokens):
            raise ValueError(f"{len(article_ids)} article ids for {len(tokens)} documents")
        self.article_ids = list(article_ids)
        self.tokens = [list(t) for t in tokens]
        self.n_docs = len(self.tokens)
        self.doc_freq: Counter[str] = Counter(t for doc in self.tokens for t in set(doc))
        if bm25 is None:
            bm25 = bm25s.BM25(k1=K1, b=B)
            if self.n_docs:
                bm25.index([doc or [""] for doc in self.tokens], show_progress=False)
        self._bm25 = bm25
        self.articles = sorted(set(self.article_ids))
        position = {a: i for i, a in enumerate(self.articles)}
        self.doc_article = np.asarray([position[a] for a in self.article_ids], dtype=np.int64)
        self.article_tokens: dict[str, set[str]] = {}
        for article_id, doc in zip(self.article_ids, self.tokens, strict=True):
            self.article_tokens.setdefault(article_id, set()).update(doc)

    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk]) -> LexicalIndex:
        chunks = list(chunks)
        return cls([c.article_id for c in chunks], [tokenize(c.text) for c in chunks])

    def __len__(self) -> int:
        return self.n_docs

    # ----------------------------------------------------------------- scoring
    def idf(self, token: str) -> float:
        """BM25 (Lucene) IDF; a token no document holds gets the highest IDF."""
        df = self.doc_freq.get(token, 0)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def doc_scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """Raw BM25 score of every document (zeros when nothing matches)."""
        known = [t for t in query_tokens if t in self.doc_freq]
        if not self.n_docs or not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def query_mass(self, query_tokens: Sequence[str]) -> float:
        """Sum of the IDF of the query's tokens: about the score of a perfect match."""
        return sum(self.idf(t) for t in query_tokens)

    def article_scores(self, query_tokens: Sequence[str]) -> dict[str, float]:
        """Best document score per article, normalised by :meth:`query_mass` into 0..1."""
        mass = self.query_mass(query_tokens)
        scores = self.doc_scores(query_tokens)
        if mass <= 0 or not scores.any():
            return {}
        best = np.zeros(len(self.articles), dtype=np.float32)
        np.maximum.at(best, self.doc_article, scores)
        found = np.flatnonzero(best > 0)
        # bm25s leaves out BM25's (k1 + 1) factor: put it back, so that a document
        # holding each query word once, at average length, scores its IDF sum
        scale = (K1 + 1.0) / mass
        return {self.articles[i]: min(1.0, float(best[i]) * scale) for i in found}

    def coverage(self, query_tokens: Sequence[str], article_id: str) -> float:
        """IDF-weighted share of the query's tokens found anywhere in the article."""
        mass = self.query_mass(query_tokens)
        if mass <= 0:
            return 0.0
        words = self.article_tokens.get(article_id, set())
        return sum(self.idf(t) for t in query_tokens if t in words) / mass

    # ------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        payload = {"k1": K1, "b": B, "articles": self.article_ids, "tokens": self.tokens}
        (directory / LEXICAL_FILE).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
        if self.n_docs:
            self._bm25.save(str(directory / BM25_DIR), show_progress=False)

    @classmethod
    def load(cls, directory: str | Path) -> LexicalIndex | None:
        """The saved index, or None for a version built before BM25 existed."""
        directory = Path(directory)
        path = directory / LEXICAL_FILE
        if not path.is_file():
            return None
        payload = json.loads(path.read_text("utf-8"))
        bm25_dir = directory / BM25_DIR
        bm25 = bm25s.BM25.load(str(bm25_dir), show_progress=False) if bm25_dir.is_dir() else None
        return cls(payload["articles"], payload["tokens"], bm25)


def save(directory: str | Path, chunks: Iterable[Chunk]) -> LexicalIndex:
    """Build the BM25 index of ``chunks`` and write it into a version directory."""
    index = LexicalIndex.from_chunks(chunks)
    index.save(directory)
    return index


def load(directory: str | Path) -> LexicalIndex | None:
    return LexicalIndex.load(directory)
