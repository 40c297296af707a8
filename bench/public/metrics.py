"""Answer-or-hand-off figures of one system on one query set, and the threshold choice.

At threshold ``t`` a query is answered with its top article when its confidence is
``>= t``, otherwise handed off.  Over the in-scope queries (gold not None):

- in-scope accuracy: answered and right ÷ in-scope queries;
- wrong-answer rate: answered but wrong ÷ in-scope queries;
- Recall@1/3/5 and MRR of the ranking, whatever the threshold;

over the out-of-scope ones (gold None): OOS recall = handed off ÷ OOS queries, and
OOS precision = out-of-scope queries among all hand-offs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Ranked:
    """One query's outcome: gold intent (None: out of scope), ranked intents, confidence."""

    gold: str | None
    ranking: tuple[str, ...]
    confidence: float


@dataclass(frozen=True, slots=True)
class Figures:
    threshold: float
    in_scope: int
    oos: int
    accuracy: float  # answered and right ÷ in-scope
    wrong: float  # answered but wrong ÷ in-scope
    oos_recall: float | None
    oos_precision: float | None
    recall: tuple[float, float, float]  # @1, @3, @5
    mrr: float


def _arrays(rows: Sequence[Ranked]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    conf = np.asarray([r.confidence for r in rows], dtype=np.float64)
    right = np.asarray([bool(r.ranking) and r.ranking[0] == r.gold for r in rows])
    inscope = np.asarray([r.gold is not None for r in rows])
    return conf, right, inscope


def figures(rows: Sequence[Ranked], threshold: float) -> Figures:
    conf, right, inscope = _arrays(rows)
    answered = conf >= threshold
    n_in, n_oos = int(inscope.sum()), int((~inscope).sum())
    handed = ~answered
    ranks = []
    for r in rows:
        if r.gold is not None:
            ranks.append(r.ranking.index(r.gold) + 1 if r.gold in r.ranking else 0)
    rank = np.asarray(ranks)
    hit = rank > 0
    return Figures(
        threshold=threshold,
        in_scope=n_in,
        oos=n_oos,
        accuracy=float((answered & right & inscope).sum() / n_in) if n_in else 0.0,
        wrong=float((answered & ~right & inscope).sum() / n_in) if n_in else 0.0,
        oos_recall=float((handed & ~inscope).sum() / n_oos) if n_oos else None,
        oos_precision=float((handed & ~inscope).sum() / handed.sum()) if n_oos and handed.any() else None,
        recall=tuple(float((hit & (rank <= k)).mean()) if n_in else 0.0 for k in (1, 3, 5)),  # type: ignore[arg-type]
        mrr=float(np.where(hit, 1.0 / np.maximum(rank, 1), 0.0).mean()) if n_in else 0.0,
    )


def choose_threshold(rows: Sequence[Ranked], min_oos_recall: float) -> float:
    """The threshold with the best in-scope accuracy at OOS recall >= ``min_oos_recall``.

    Without out-of-scope queries: the lowest threshold (answer everything), i.e. plain
    accuracy.  When no threshold reaches the OOS recall, the one with the best mean of
    in-scope accuracy and OOS recall.
    """
    conf, right, inscope = _arrays(rows)
    if inscope.all() or not len(rows):
        return 0.0
    candidates = np.unique(conf)
    n_in, n_oos = max(1, int(inscope.sum())), int((~inscope).sum())
    # answered at t = conf >= t; evaluate every candidate with cumulative sums
    order = np.argsort(-conf, kind="stable")
    c_sorted = conf[order]
    good = np.cumsum((right & inscope)[order])
    oos_answered = np.cumsum((~inscope)[order])
    best_ok: tuple[float, float] | None = None
    best_any: tuple[float, float] | None = None
    for t in candidates:
        n = int(np.searchsorted(-c_sorted, -t, side="right"))  # how many have conf >= t
        acc = good[n - 1] / n_in if n else 0.0
        recall = 1.0 - (oos_answered[n - 1] / n_oos if n else 0.0)
        if recall >= min_oos_recall and (best_ok is None or acc >= best_ok[0]):
            best_ok = (acc, float(t))
        balanced = (acc + recall) / 2
        if best_any is None or balanced > best_any[0]:
            best_any = (balanced, float(t))
    chosen = best_ok or best_any
    assert chosen is not None
    return chosen[1]
