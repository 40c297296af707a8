"""``guichet kb calibrate``: feedback read from the routed messages, and (with the real
model) feedback on half of a KB's cases raising the coverage on the other half."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.kb.feedback import feedback_from_messages
from kb_index.calibration import Calibration
from kb_index.feedback_fit import Feedback

ROOT = Path(__file__).resolve().parents[3]


def _msg(id: int, meta: dict[str, Any], text: str = "", conversation_id: int = 1) -> SimpleNamespace:
    return SimpleNamespace(id=id, conversation_id=conversation_id, text=text, meta=meta)


def test_solved_clicks_no_clicks_and_clarification_picks_are_feedback() -> None:
    messages = [
        _msg(1, {"action": "answer", "reason": "confident", "article_id": "refunds",
                 "question": "how do refunds work"}),
        _msg(2, {"action": "smalltalk", "reason": "solved"}, "Yes, solved"),
        _msg(3, {"action": "answer", "reason": "confident", "article_id": "vat", "question": "VAT rate?"}),
        _msg(4, {"action": "handoff", "reason": "not_helped"}, "No"),
        _msg(5, {"action": "clarify", "reason": "vague", "question": "my parcel"}),
        _msg(6, {"action": "answer", "reason": "clarified", "article_id": "tracking",
                 "question": "my parcel"}),
        # an answer followed by a new question: not labelled
        _msg(7, {"action": "answer", "reason": "confident", "article_id": "a", "question": "q7"},
             conversation_id=2),
        _msg(8, {"action": "handoff", "reason": "low_confidence", "question": "q8"}, conversation_id=2),
        _msg(9, {"action": "handoff", "reason": "not_helped"}, conversation_id=2),
        # asking for a person right after an answer: it did not help
        _msg(10, {"action": "answer", "reason": "confident", "article_id": "b", "question": "q10"},
             conversation_id=3),
        _msg(11, {"action": "handoff", "reason": "explicit_request"}, "agent", conversation_id=3),
    ]
    assert feedback_from_messages(reversed(messages)) == [
        Feedback("how do refunds work", "refunds", True, "solved"),
        Feedback("VAT rate?", "vat", False, "not_helped"),
        Feedback("my parcel", "tracking", True, "clarified"),
        Feedback("q10", "b", False, "explicit_request"),
    ]


@pytest.mark.model
async def test_feedback_on_half_of_a_kb_raises_coverage_on_the_other_half() -> None:
    """Acceptance (issue 10): feedback from one half of a KB's cases (every question the
    bot showed an article for, told right or wrong as a "Yes, solved" / "No" click
    would), measured on the other half at the default threshold."""
    from gateway.config import Settings
    from gateway.flow.policy import PolicyConfig
    from gateway.kb.evaluate import run_cases
    from kb_index.embedder import make_embedder, make_term_encoder
    from kb_index.evaluate import load_cases, temporary_index
    from kb_index.feedback_fit import refit
    from kb_index.tune import CurvePoint, point_at

    settings = Settings()
    embedder = make_embedder(settings.kb.embedder, settings.kb.model, 2)
    terms = make_term_encoder(settings.kb.term_bridge)
    policy = PolicyConfig.from_settings(settings.bot)
    threshold = policy.answer_threshold
    kb = ROOT / "examples" / "dev" / "campus"
    cases = load_cases(kb / "cases.jsonl")
    async with temporary_index(kb / "kb", embedder, terms=terms) as (retriever, _):
        results = await run_cases(retriever, cases, 0.0, policy)  # features of every case
        loaded = retriever.loaded
        assert loaded is not None and loaded.calibration is not None
        before = retriever.calibration_of(loaded)
        half = [r for i, r in enumerate(results) if i % 2 == 0]
        held_back = [r for i, r in enumerate(results) if i % 2 == 1]
        feedback = [Feedback(c.text, r.top, r.top == r.expected, "simulated")
                    for c, r in zip(cases[::2], half, strict=True) if r.action == "answer" and r.top]
        fitted = refit(before, feedback, lambda q: retriever.search_sync(q, k=policy.top_k))
    assert fitted.after is not None and fitted.labels >= 40

    def at(calibration: Calibration) -> CurvePoint:
        rescored = [dataclasses.replace(r, confidence=calibration.confidence(r.features)) for r in held_back]
        return point_at(rescored, threshold)

    old, new = at(before), at(fitted.after)
    # measured on campus: coverage 0.46 -> 0.54, precision 1.0 -> 0.967 (56 answerable held-back
    # cases).  Not on shop any more: with the passage mean and the weights fitted on six dev KBs
    # the default already answers 0.80 of its held-back half at 0.90, and its feedback keeps that
    # (0.78 at 0.897); transit 0.73 -> 0.93 at 0.88 -> 0.91; insurance stays at 0.43 (0.83).
    assert new.coverage > old.coverage, (old, new)
    assert new.precision is not None and new.precision >= 0.90, (old, new)
