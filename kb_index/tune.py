"""Choose the answer threshold: ``guichet kb tune``.

One pass of the cases through the live decision (:func:`gateway.flow.policy.decide`,
via :mod:`gateway.kb.evaluate`) at threshold 0 records, for every case the bot would
answer from the knowledge base, its calibrated confidence and whether its top
article is right.  At threshold ``t`` the bot answers exactly the cases whose
confidence is ``>= t``, so that one pass gives the whole precision/coverage curve:

- coverage(t)  = answerable cases answered ÷ answerable cases;
- precision(t) = correct answers ÷ all answers (an answer to a null case is wrong).

:func:`choose_threshold` returns the threshold with the most coverage at a precision
of at least the target (the highest such threshold when several give the same
coverage), placed halfway between the last confidence it accepts and the next one
below, so a case near the boundary does not flip on rounding.  The CLI then checks
it with a real evaluation at that threshold, and writes it to the TOML
configuration with :func:`write_threshold`, which changes one line and keeps the
rest of the file (comments included).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kb_index.eval_report import CaseResult

GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # thresholds printed in the table


@dataclass(frozen=True, slots=True)
class CurvePoint:
    threshold: float
    answered: int  # all answers, including wrong ones
    correct: int
    covered: int  # answerable cases answered
    answerable: int

    @property
    def coverage(self) -> float:
        return self.covered / self.answerable if self.answerable else 0.0

    @property
    def precision(self) -> float | None:
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class Choice:
    threshold: float | None  # None: no threshold reaches the target
    point: CurvePoint | None  # the curve at that threshold
    target: float
    best_precision: float | None  # the highest precision any threshold reaches


def candidates(results: Sequence[CaseResult]) -> list[tuple[float, bool, bool]]:
    """(confidence, top is right, expected is not None) of each case the bot would
    answer at threshold 0; smalltalk and explicit hand-offs never are."""
    return [(r.confidence, r.top is not None and r.top == r.expected, r.expected is not None)
            for r in results if r.action == "answer"]


def point_at(results: Sequence[CaseResult], threshold: float) -> CurvePoint:
    answerable = sum(r.expected is not None for r in results)
    chosen = [(ok, exp) for conf, ok, exp in candidates(results) if conf >= threshold]
    return CurvePoint(
        threshold=threshold,
        answered=len(chosen),
        correct=sum(ok for ok, _ in chosen),
        covered=sum(exp for _, exp in chosen),
        answerable=answerable,
    )


def curve(results: Sequence[CaseResult], thresholds: Sequence[float] = GRID) -> list[CurvePoint]:
    return [point_at(results, t) for t in thresholds]


def choose_threshold(results: Sequence[CaseResult], target: float) -> Choice:
    """The threshold giving the most coverage at precision >= ``target``."""
    confidences = sorted({conf for conf, _, _ in candidates(results)}, reverse=True)
    best: tuple[int, float, CurvePoint] | None = None
    best_precision: float | None = None
    for i, conf in enumerate(confidences):
        point = point_at(results, conf)
        precision = point.precision
        if precision is None:
            continue
        best_precision = precision if best_precision is None else max(best_precision, precision)
        if precision + 1e-12 < target:
            continue
        if best is None or point.covered > best[2].covered:
            below = confidences[i + 1] if i + 1 < len(confidences) else 0.0
            best = (i, _between(below, conf), point)
    if best is None:
        return Choice(None, None, target, best_precision)
    threshold = best[1]
    return Choice(threshold, point_at(results, threshold), target, best_precision)


def _between(low: float, high: float) -> float:
    """A round number in (low, high]: the midpoint, to 3 decimals when that fits."""
    mid = (low + high) / 2
    for digits in (2, 3, 4, 6):
        rounded = math.floor(mid * 10**digits + 0.5) / 10**digits
        if low < rounded <= high:
            return rounded
    return high


# ------------------------------------------------------------- configuration

_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^(\s*answer_threshold\s*=\s*)([^#\n]*?)(\s*(#.*)?)$")


def write_threshold(path: str | Path, threshold: float) -> str:
    """Set ``bot.answer_threshold`` in a TOML file; returns "created" or "updated".

    A missing file is created with just that setting.  In an existing file only the
    ``answer_threshold`` line of ``[bot]`` changes (its comment kept), or one line
    is added to ``[bot]``, or a ``[bot]`` section is appended.  The result is parsed
    back; a file it cannot edit that way (say, an inline ``bot = {...}`` table) is
    left untouched and a ValueError explains why.
    """
    path = Path(path)
    value = format(threshold, ".6g")
    if not any(c in value for c in ".en"):
        value += ".0"  # a TOML float, like the setting
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"[bot]\nanswer_threshold = {value}\n", "utf-8")
        return "created"
    original = path.read_text("utf-8")
    tomllib.loads(original)  # raises TOMLDecodeError (a ValueError) on a broken file
    lines = original.splitlines(keepends=True)
    section, bot_header, done = "", None, False
    for i, line in enumerate(lines):
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            if section == "bot":
                bot_header = i
            continue
        match = _KEY.match(line.rstrip("\r\n")) if section == "bot" else None
        if match:
            ending = line[len(line.rstrip("\r\n")):]
            lines[i] = f"{match.group(1)}{value}{match.group(3)}{ending}"
            done = True
            break
    if not done and bot_header is not None:
        lines.insert(bot_header + 1, f"answer_threshold = {value}\n")
    elif not done:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(f"\n[bot]\nanswer_threshold = {value}\n")
    text = "".join(lines)
    parsed = tomllib.loads(text).get("bot", {})
    if not isinstance(parsed, dict) or parsed.get("answer_threshold") != float(value):
        raise ValueError(f"{path}: could not set bot.answer_threshold with a line edit; set it by hand")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)
    return "updated"
