"""Language centring: take each language's mean vector out before comparing.

Multilingual embedders put a French question nearer to French texts than to the
English text that answers it: every vector carries a language component, and two
texts of the same language share it.  On the sample KB that bias sends most
cross-language questions to a same-language article on a neighbouring topic
(docs/cross-language.md).  Subtracting the mean vector of the text's language
(then normalising again) removes that shared component; it is the "centring" of
Libovický et al. (2020), *On the language neutrality of pre-trained multilingual
representations*.

The means are estimated once, on first use, from :data:`parallel.PAIRS`: everyday
sentences with their translations, unrelated to any knowledge base.  A text's
language comes from :func:`kb_index.language.detect` (French or English; a text it
cannot tell, such as "API keys", is centred with the mean of both).  Queries and indexed texts go through the
same transform, so the index stays a cosine index.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from kb_index.embedders.base import Embedder, normalise
from kb_index.language import detect

LANGUAGES = ("en", "fr")


class LanguageCentred:
    """Wraps an embedder: vectors minus their language's mean, L2-normalised again."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._means: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"{self.inner.name}+centred"

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _query_encoder(self) -> Callable[[list[str]], np.ndarray]:
        return getattr(self.inner, "encode_queries", self.inner.encode)

    def means(self) -> dict[str, np.ndarray]:
        """Mean vector per language (and "" for any other), computed once."""
        with self._lock:
            if self._means is None:
                from kb_index.embedders.parallel import PAIRS

                encode = self._query_encoder()
                by_lang = {
                    lang: encode([pair[i] for pair in PAIRS]).mean(axis=0)
                    for i, lang in enumerate(LANGUAGES)
                }
                by_lang[""] = np.mean([by_lang[lang] for lang in LANGUAGES], axis=0)
                self._means = {k: v.astype(np.float32) for k, v in by_lang.items()}
            return self._means

    def centre(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        means = self.means()
        shift = np.stack([means.get(detect(text, default=""), means[""]) for text in texts])
        return normalise(vectors - shift)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.centre(texts, self.inner.encode(texts))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.centre(texts, self._query_encoder()(texts))
