"""Translations of one topic: a knowledge base's articles that say the same thing in
two languages, ranked as one.

A bilingual KB often holds the same help page in French and in English.  Ranked apart,
the two translations take the first two places for a question on their topic: the
margin between them is nearly zero, so the confidence reads "unsure between two
articles" when the topic is certain, and the first of the two is often the
translation in the other language than the customer's (issue 10: 14 of the 23 wrong
top articles on a development KB of eight translated pairs).

So the ranking (:meth:`kb_index.retriever.KBRetriever.rank`, and the index-time
calibration's :mod:`kb_index.held_out_scores`) takes each pair as one entry, with the
better score of the two, shown in the question's language when the pair has it
(:func:`merge_twins`); the margin is then measured against the next *topic*.

Twins are found with no metadata (:func:`find_twins`): two articles of different
languages whose mean chunk vectors (the multilingual embedder's, language-centred)
are each other's nearest article of the other language, with a cosine of at least
:data:`MIN_TWIN_COSINE` and clearly above the next nearest (:data:`MIN_TWIN_GAP`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# Measured on the development KBs (e5, language-centred, mean chunk vectors): translated
# pairs 0.67-0.84 and 0.13-0.31 above either one's next nearest article of the other
# language; related but distinct pairs (account deletion / ending a subscription) up to
# 0.78 but at most 0.08 above the next.
MIN_TWIN_COSINE = 0.65
MIN_TWIN_GAP = 0.1
_BLOCK = 1024  # articles compared at a time (bounds memory on a large KB)


def article_vectors(
    article_ids: Sequence[str], vectors: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """(article ids, unit mean vector of each article's chunks); ``article_ids`` and
    ``vectors``: one per chunk row."""
    names = sorted(set(article_ids))
    position = {name: i for i, name in enumerate(names)}
    sums = np.zeros((len(names), vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float64)
    np.add.at(sums, np.asarray([position[a] for a in article_ids], dtype=np.int64), vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return names, (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def find_twins(
    names: Sequence[str],
    matrix: np.ndarray,
    article_lang: Mapping[str, str],
    min_cosine: float = MIN_TWIN_COSINE,
    min_gap: float = MIN_TWIN_GAP,
) -> dict[str, str]:
    """article id -> its translation, both ways: two articles of different (known)
    languages, each the other's nearest of that language, with a cosine of at least
    ``min_cosine`` and ``min_gap`` above either one's next nearest there."""
    langs = [article_lang.get(n, "") for n in names]
    # (article, other language) -> (nearest article there, its cosine, the next one's)
    nearest: dict[tuple[int, str], tuple[int, float, float]] = {}
    for lang in sorted({lang for lang in langs if lang}):
        cols = np.flatnonzero(np.asarray([x == lang for x in langs]))
        rows = np.flatnonzero(np.asarray([bool(x) and x != lang for x in langs]))
        if not len(cols) or not len(rows):
            continue
        for start in range(0, len(rows), _BLOCK):
            part = rows[start:start + _BLOCK]
            sims = matrix[part] @ matrix[cols].T
            order = np.argsort(-sims, axis=1)[:, :2]
            for k, i in enumerate(part.tolist()):
                j = int(order[k, 0])
                second = float(sims[k, order[k, 1]]) if len(cols) > 1 else -1.0
                nearest[(i, lang)] = (int(cols[j]), float(sims[k, j]), second)
    twins: dict[str, str] = {}
    for (i, _lang), (j, cosine, second) in nearest.items():
        back = nearest.get((j, langs[i]))
        if back is None or back[0] != i or cosine < min_cosine:
            continue
        if cosine - max(second, back[2]) >= min_gap:
            twins[names[i]] = names[j]
    return twins


def merge_twins(
    fused: Sequence[tuple[str, float]],
    twins: Mapping[str, str],
    query_lang: str,
    article_lang: Mapping[str, str],
) -> list[tuple[str, float]]:
    """``fused`` (best first) with each translated pair once: at the better rank and
    score of the two, as the article in ``query_lang`` when the pair has one."""
    if not twins:
        return list(fused)
    merged: list[tuple[str, float]] = []
    seen: set[str] = set()
    for article_id, score in fused:
        if article_id in seen:
            continue
        twin = twins.get(article_id)
        seen.add(article_id)
        if twin is not None:
            seen.add(twin)
            if query_lang and article_lang.get(article_id) != query_lang \
                    and article_lang.get(twin) == query_lang:
                article_id = twin
        merged.append((article_id, score))
    return merged


def topic_articles(article_id: str, twins: Mapping[str, str]) -> tuple[str, ...]:
    """The article and its translation, if it has one."""
    twin = twins.get(article_id)
    return (article_id, twin) if twin else (article_id,)


def same_topic(a: str, b: str, twins: Mapping[str, str]) -> bool:
    """``a`` and ``b`` are one article or translations of each other."""
    return bool(a) and (a == b or twins.get(a) == b)


def index_twins(
    chunk_articles: Sequence[str], vectors: np.ndarray, article_lang: Mapping[str, str]
) -> dict[str, str]:
    """The translated pairs of one index version (``chunk_articles``: each chunk row's
    article, in the order of ``vectors``)."""
    if not len(chunk_articles):
        return {}
    names, matrix = article_vectors(chunk_articles, vectors)
    return find_twins(names, matrix, article_lang)
