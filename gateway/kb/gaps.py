"""The "KB gaps" report: the customer questions the bot could not settle,
clustered by topic and ranked by volume.

Items are the question records (:mod:`gateway.kb.containment`) that were not
contained: handed off for low confidence or no match, answered but "that did not
help" or asked again, clarifications that ended with a person.  They are
clustered by cosine similarity of their vectors (:mod:`gateway.kb.vectors`):
a greedy pass puts each question in the nearest cluster whose centroid is close
enough, then average-linkage merges clusters while two are closer than the
threshold.  Each cluster shows a representative question (nearest its
centroid), examples, languages, and the containment of its topic (every record
in the window near the centroid, contained or not) before and after the
approval of a draft on that topic, when there is one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from gateway.kb.containment import Containment, QuestionRecord, containment_split
from gateway.kb.vectors import Vectorizer

MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class ApprovedTopic:
    """An approved draft: its questions define the topic, its approval the split."""

    draft_id: int
    title: str
    questions: tuple[str, ...]
    article_id: str | None
    approved_at: datetime


@dataclass
class GapCluster:
    representative: str
    count: int
    examples: list[str]
    languages: dict[str, int]
    message_ids: list[int]
    containment: Containment = field(default_factory=Containment)
    draft_id: int | None = None  # the approved draft on this topic, if any
    draft_title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "representative": self.representative,
            "count": self.count,
            "examples": self.examples,
            "languages": self.languages,
            "message_ids": self.message_ids,
            "containment": self.containment.to_dict(),
            "draft_id": self.draft_id,
            "draft_title": self.draft_title,
        }


@dataclass
class GapReport:
    since: datetime
    until: datetime
    questions: int  # question records in the window
    contained: int
    gaps: int  # not contained
    vectorizer: str
    clusters: list[GapCluster]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "questions": self.questions,
            "contained": self.contained,
            "gaps": self.gaps,
            "vectorizer": self.vectorizer,
            "clusters": [c.to_dict() for c in self.clusters],
        }


def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Row indexes grouped by topic, biggest group first (ties: earliest row)."""
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, vec in enumerate(vectors):
        if groups:
            centroids = np.stack([s / max(float(np.linalg.norm(s)), 1e-9) for s in sums])
            sims = centroids @ vec
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(i)
                sums[best] = sums[best] + vec
                continue
        groups.append([i])
        sums.append(vec.astype(np.float64))
    _merge(vectors, groups, threshold)
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def _merge(vectors: np.ndarray, groups: list[list[int]], threshold: float) -> None:
    """Average linkage: merge the two closest groups while their mean pairwise
    cosine is at or above the threshold."""
    while len(groups) > 1:
        means = np.stack([vectors[g].mean(axis=0) for g in groups])
        link = means @ means.T  # mean pairwise cosine between groups
        np.fill_diagonal(link, -np.inf)
        a, b = np.unravel_index(int(np.argmax(link)), link.shape)
        if link[a, b] < threshold:
            return
        first, second = sorted((int(a), int(b)))
        groups[first].extend(groups.pop(second))


def gaps_report(
    records: Sequence[QuestionRecord],
    vectorizer: Vectorizer,
    since: datetime,
    until: datetime,
    topics: Sequence[ApprovedTopic] = (),
    limit: int = 20,
) -> GapReport:
    gap_records = [r for r in records if not r.contained]
    texts = [r.question for r in records] + [q for t in topics for q in t.questions]
    matrix = vectorizer.vectors(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    record_vecs = matrix[: len(records)]
    index = {id(r): i for i, r in enumerate(records)}
    gap_vecs = record_vecs[[index[id(r)] for r in gap_records]] if gap_records else record_vecs[:0]
    topic_vecs, offset = [], len(records)
    for approved in topics:
        topic_vecs.append(matrix[offset : offset + len(approved.questions)])
        offset += len(approved.questions)

    clusters: list[GapCluster] = []
    for group in cluster(gap_vecs, vectorizer.threshold)[:limit]:
        members = [gap_records[i] for i in group]
        vecs = gap_vecs[group]
        centroid = vecs.mean(axis=0)
        order = np.argsort(-(vecs @ centroid), kind="stable")
        texts_by_closeness = list(dict.fromkeys(members[int(i)].question for i in order))
        item = GapCluster(
            representative=texts_by_closeness[0],
            count=len(members),
            examples=texts_by_closeness[1 : 1 + MAX_EXAMPLES],
            languages=dict(Counter(m.lang or "?" for m in members).most_common()),
            message_ids=sorted(m.message_id for m in members),
        )
        topic = _matching_topic(centroid, topics, topic_vecs, vectorizer.threshold)
        in_topic = (record_vecs @ centroid) / max(float(np.linalg.norm(centroid)), 1e-9) \
            >= vectorizer.threshold
        related = [r for r, near in zip(records, in_topic.tolist(), strict=True)
                   if near or (topic is not None and topic.article_id and r.article_id == topic.article_id)]
        related_ids = {r.message_id for r in related} | set(item.message_ids)
        scope = [r for r in records if r.message_id in related_ids]
        item.containment = containment_split(scope, topic.approved_at if topic else None)
        if topic is not None:
            item.draft_id, item.draft_title = topic.draft_id, topic.title
        clusters.append(item)
    contained = sum(r.contained for r in records)
    return GapReport(since, until, len(records), contained, len(records) - contained,
                     vectorizer.name, clusters)


def _matching_topic(
    centroid: np.ndarray, topics: Sequence[ApprovedTopic], topic_vecs: Sequence[np.ndarray],
    threshold: float,
) -> ApprovedTopic | None:
    norm = max(float(np.linalg.norm(centroid)), 1e-9)
    best: tuple[float, ApprovedTopic] | None = None
    for topic, vecs in zip(topics, topic_vecs, strict=True):
        if not len(vecs):
            continue
        sim = float((vecs @ centroid).max()) / norm
        if sim >= threshold and (best is None or sim > best[0]):
            best = (sim, topic)
    return best[1] if best else None
