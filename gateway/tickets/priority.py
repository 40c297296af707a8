"""Priorities P1 (highest) to P4 from an urgency x impact matrix, raised for frustration.

The matrix is configurable (the policy file's ``[matrix]`` table: ``urgency -> impact ->
priority``); :data:`DEFAULT_MATRIX` is the ITIL-like default.  A customer who sounds
frustrated (:func:`gateway.flow.signals.frustration`, or a handoff whose reason is
``frustration``) gets ``tickets.frustration_raise`` levels more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.flow.signals import frustration

PRIORITIES = ("P1", "P2", "P3", "P4")  # P1 first
LEVELS = ("low", "medium", "high")
DEFAULT_PRIORITY = "P3"

Matrix = Mapping[str, Mapping[str, str]]  # urgency -> impact -> priority

DEFAULT_MATRIX: dict[str, dict[str, str]] = {
    "high": {"high": "P1", "medium": "P2", "low": "P3"},
    "medium": {"high": "P2", "medium": "P3", "low": "P4"},
    "low": {"high": "P3", "medium": "P4", "low": "P4"},
}


class PriorityError(ValueError):
    """An unknown priority, urgency or impact, or an incomplete matrix."""


def check_priority(value: str) -> str:
    if value not in PRIORITIES:
        raise PriorityError(f"priority must be one of {', '.join(PRIORITIES)}, not {value!r}")
    return value


def check_level(value: str, what: str) -> str:
    if value not in LEVELS:
        raise PriorityError(f"{what} must be one of {', '.join(LEVELS)}, not {value!r}")
    return value


def check_matrix(matrix: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """A complete matrix (every urgency x impact mapped to a priority), or PriorityError."""
    out: dict[str, dict[str, str]] = {}
    for urgency in LEVELS:
        row = matrix.get(urgency)
        if not isinstance(row, Mapping):
            raise PriorityError(f"matrix: urgency {urgency!r} is missing")
        out[urgency] = {}
        for impact in LEVELS:
            value = row.get(impact)
            if not isinstance(value, str) or value not in PRIORITIES:
                raise PriorityError(f"matrix: {urgency} x {impact} must be one of {', '.join(PRIORITIES)}")
            out[urgency][impact] = value
    extra = set(matrix) - set(LEVELS)
    if extra:
        raise PriorityError(f"matrix: unknown urgencies {sorted(extra)}")
    return out


def from_matrix(matrix: Matrix, urgency: str, impact: str) -> str:
    return matrix[check_level(urgency, "urgency")][check_level(impact, "impact")]


def raised(priority: str, levels: int = 1) -> str:
    """``priority`` made ``levels`` more urgent, never above P1."""
    index = PRIORITIES.index(check_priority(priority))
    return PRIORITIES[max(0, index - max(0, levels))]


def higher(a: str, b: str) -> str:
    """The more urgent of two priorities."""
    return a if PRIORITIES.index(a) <= PRIORITIES.index(b) else b


def frustration_signals(texts: Iterable[str]) -> list[str]:
    """The frustration markers found in the customer's messages, in order."""
    return [marker for marker in (frustration(t) for t in texts) if marker]


@dataclass(frozen=True, slots=True)
class PriorityChoice:
    priority: str
    base: str  # from the matrix alone
    reasons: tuple[str, ...]  # why it was raised ("frustration: shouting")


def initial_priority(
    matrix: Matrix,
    urgency: str,
    impact: str,
    *,
    handoff_reason: str = "",
    customer_texts: Iterable[str] = (),
    frustration_raise: int = 1,
) -> PriorityChoice:
    """The priority a new ticket starts with."""
    base = from_matrix(matrix, urgency, impact)
    markers = frustration_signals(customer_texts)
    if handoff_reason == "frustration" and not markers:
        markers = ["handoff"]
    if not markers or frustration_raise <= 0:
        return PriorityChoice(base, base, ())
    reason = "frustration: " + ", ".join(dict.fromkeys(markers))
    return PriorityChoice(raised(base, frustration_raise), base, (reason,))
