"""Refine a knowledge base's calibration from what its customers said.

The index-time calibration (:mod:`kb_index.self_calibration`) knows the KB's scale
but its weights were fitted on other knowledge bases.  Production feedback labels
real questions of *this* KB: an answer the customer marked solved is right, one
followed by "that did not help" (or the same question again, frustration, a request
for a person) is wrong, an article picked after a clarifying question is the right
one.  :func:`refit` searches each labelled question again on the live index
version, takes the retriever's features, and fits the logistic regression again on
the KB's own scale with an L2 pull towards the current weights
(:func:`kb_index.calibration.fit_calibration` with ``prior``): a few dozen labels
adjust the calibration, they do not replace it.

The result is saved beside the index versions (``INDEX_DIR/feedback_calibration.json``,
:func:`save_model`); every later build uses its weights on the new version's own
scale (:func:`kb_index.versions.build_index`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb_index.calibration import FEATURES, Calibration, fit_calibration
from kb_index.contracts import SearchResult
from kb_index.self_calibration import DECISION_OFFSET

MODEL_FILE = "feedback_calibration.json"
PRIOR_STRENGTH = 0.05  # L2 pull towards the current weights (per feature, on the KB scale)
MIN_LABELS = 10  # fewer usable labels: nothing is fitted


@dataclass(frozen=True, slots=True)
class Feedback:
    """One customer question and what became of the article it was given."""

    question: str
    article_id: str
    helpful: bool  # True: solved / picked; False: did not help
    source: str = ""  # "solved", "not_helped", "clarified", ...


@dataclass(frozen=True, slots=True)
class Refit:
    before: Calibration
    after: Calibration | None  # None: too few usable labels
    labels: int  # feedback rows used (the top article is still the one they are about)
    skipped: int  # rows whose question now finds another article first (no label)
    positives: int
    rows: tuple[tuple[dict[str, float], bool], ...] = ()  # features, label (for the report)

    def confidences(self, calibration: Calibration) -> list[float]:
        return [calibration.confidence(f) for f, _ in self.rows]

    def summary(self, threshold: float) -> dict[str, Any]:
        """What changed on the labelled questions at ``threshold``: answered and right,
        before and after, and the weights."""
        def count(calibration: Calibration | None) -> dict[str, int]:
            if calibration is None:
                return {}
            chosen = [ok for (f, ok) in self.rows if calibration.confidence(f) >= threshold]
            return {"answered": len(chosen), "right": sum(chosen)}

        return {
            "labels": self.labels, "positives": self.positives, "skipped": self.skipped,
            "threshold": threshold,
            "before": {"bias": self.before.bias, "weights": dict(self.before.weights), **count(self.before)},
            "after": None if self.after is None else {
                "bias": self.after.bias, "weights": dict(self.after.weights), **count(self.after)},
        }


def labelled_rows(
    feedback: Sequence[Feedback], search: Callable[[str], SearchResult]
) -> tuple[list[tuple[dict[str, float], bool]], int]:
    """(features, label) for each feedback row whose question still finds the same
    article first (a positive that now finds another article is a wrong top article:
    label 0), and how many were skipped."""
    rows: list[tuple[dict[str, float], bool]] = []
    skipped = 0
    for item in feedback:
        result = search(item.question)
        top = result.top
        if top is None:
            skipped += 1
            continue
        features = {f: float(result.extras.get(f, 0.0)) for f in FEATURES}
        if top.article_id == item.article_id:
            rows.append((features, item.helpful))
        elif item.helpful:
            rows.append((features, False))  # the right article is not first: answering is wrong
        else:
            skipped += 1  # the rejected article is no longer first: says nothing now
    return rows, skipped


def refit(
    current: Calibration,
    feedback: Sequence[Feedback],
    search: Callable[[str], SearchResult],
    *,
    strength: float = PRIOR_STRENGTH,
    offset: float = DECISION_OFFSET,
) -> Refit:
    """Fit ``current``'s weights again on the labelled questions (its reference kept);
    ``offset``: what the bias of ``current`` adds to a probability's."""
    rows, skipped = labelled_rows(feedback, search)
    positives = sum(ok for _, ok in rows)
    after = None
    if len(rows) >= MIN_LABELS:
        # fitted as a probability (the prior read as one), then shifted back to the
        # shipped weights' decision scale (kb_index.self_calibration.DECISION_OFFSET)
        prior = Calibration(current.bias - offset, current.weights, current.name, current.reference)
        fitted = fit_calibration(
            [f for f, _ in rows], [ok for _, ok in rows], features=tuple(current.weights),
            l2=strength, prior=prior, reference=current.reference,
            name=f"{current.name.split(' +')[0]} + feedback ({len(rows)})",
        )
        after = Calibration(round(fitted.bias + offset, 3), fitted.weights, fitted.name, fitted.reference)
    return Refit(current, after, len(rows), skipped, positives, tuple(rows))


def save_model(index_dir: str | Path, calibration: Calibration) -> Path:
    """Keep the refitted weights for every later build (atomically)."""
    path = Path(index_dir) / MODEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    model = Calibration(calibration.bias, calibration.weights, calibration.name)  # no reference
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(model.to_dict(), indent=1), "utf-8")
    tmp.replace(path)
    return path


def load_model(index_dir: str | Path) -> Calibration | None:
    """The weights ``guichet kb calibrate`` kept for this index directory, if any."""
    path = Path(index_dir) / MODEL_FILE
    if not path.is_file():
        return None
    return Calibration.from_dict(json.loads(path.read_text("utf-8")))
