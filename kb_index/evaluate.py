"""Labelled questions and a throw-away index to measure on.

A cases file is JSON lines ``{"id", "text", "expected": article id | null, "kind"?}``:
:func:`load_cases` reads and validates it, naming the line of any mistake.
:func:`temporary_index` builds a retriever over a temporary index of a KB directory
(the live index is not touched).  ``guichet kb eval`` runs the cases through the bot's
own decision on that retriever (``gateway.kb.evaluate``); the figures are computed
by :mod:`kb_index.eval_report`, the threshold chosen by :mod:`kb_index.tune`.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb_index.calibration import Calibration
from kb_index.embedder import Embedder
from kb_index.eval_report import CaseResult
from kb_index.fusion import FusionConfig
from kb_index.retriever import KBRetriever
from kb_index.versions import BuildReport, build_index


class CaseFileError(ValueError):
    """A cases file line is not a valid case; the message names the line."""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    text: str
    expected: str | None
    kind: str = ""
    line: int = 0


def load_cases(path: str | Path) -> list[Case]:
    """Read and validate a cases file (JSON lines)."""
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"{path}: cannot read cases file: {exc}") from exc
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue

        def bad(reason: str, number: int = number) -> CaseFileError:
            return CaseFileError(f"{path} line {number}: {reason}")

        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(f"invalid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise bad("expected a JSON object")
        case_id, text, kind = row.get("id"), row.get("text"), row.get("kind", "")
        if not isinstance(case_id, str | int) or isinstance(case_id, bool) or str(case_id) == "":
            raise bad("'id' must be a non-empty string or number")
        if str(case_id) in seen:
            raise bad(f"duplicate id {case_id!r} (first on line {seen[str(case_id)]})")
        if not isinstance(text, str) or not text.strip():
            raise bad("'text' must be a non-empty string")
        if "expected" not in row:
            raise bad("'expected' is missing (an article id, or null for out of scope)")
        expected = row["expected"]
        if expected is not None and (not isinstance(expected, str) or not expected.strip()):
            raise bad("'expected' must be an article id (string) or null")
        if kind is None:
            kind = ""
        if not isinstance(kind, str):
            raise bad("'kind' must be a string")
        seen[str(case_id)] = number
        cases.append(Case(str(case_id), text, expected, kind, number))
    return cases


def check_expected(cases: Iterable[Case], article_ids: set[str], cases_path: Path) -> None:
    for case in cases:
        if case.expected is not None and case.expected not in article_ids:
            raise CaseFileError(
                f"{cases_path} line {case.line}: expected article {case.expected!r} "
                "is not in the knowledge base"
            )


def write_predictions(path: str | Path, results: Iterable[CaseResult]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in results:
            row: dict[str, Any] = {
                "id": r.id,
                "answer": r.answer,
                "action": r.action,
                "confidence": round(r.confidence, 4),
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@asynccontextmanager
async def temporary_index(
    kb_dir: str | Path,
    embedder: Embedder,
    *,
    progress: bool = False,
    calibration: Calibration | None = None,
    fusion: FusionConfig | None = None,
    terms: Embedder | None = None,
) -> AsyncIterator[tuple[KBRetriever, BuildReport]]:
    """A retriever over a temporary index of ``kb_dir`` (the live index is not touched);
    ``terms``: the term bridge's word encoder (:mod:`kb_index.term_bridge`)."""
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="guichet-eval-") as tmp:
        build = await loop.run_in_executor(
            None, lambda: build_index(kb_dir, tmp, embedder, progress=progress, terms=terms)
        )
        retriever = KBRetriever(tmp, embedder, calibration=calibration, fusion=fusion, terms=terms)
        try:
            yield retriever, build
        finally:
            retriever.close()
