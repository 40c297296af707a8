"""FAQ tables, CSV or JSONL, as knowledge-base entries.

Columns ``id, question, answer`` (optional ``title``, ``lang``, ``tags``); rows
sharing an id are question variants of one entry, whose answer is the first
non-empty one.  :func:`parse_faq` returns the entries and, for each broken row or
entry, a reason an admin can act on; a broken header breaks the whole table.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

REQUIRED_COLUMNS = ("id", "question", "answer")


class FaqError(ValueError):
    """Why a table, a row or an entry cannot be loaded."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    title: str
    answer: str
    lang: str = ""
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()


def cell(value: Any) -> str:
    """A table cell (or JSON value) as stripped text; numbers are text too."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FaqError(f"expected text, got {type(value).__name__}")
    return str(value).strip()


def str_list(value: Any, key: str, sep: str = ",") -> tuple[str, ...]:
    """A list of text, or text split on ``sep``."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(sep) if v.strip())
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise FaqError(f"field {key!r} must be a list of text")


def parse_faq(text: str, suffix: str) -> tuple[list[FaqEntry], list[str]]:
    """``(entries, reasons)`` of a ``.csv`` or ``.jsonl`` table (FaqError for a bad header)."""
    reasons: list[str] = []
    rows = _csv_rows(text) if suffix == ".csv" else _jsonl_rows(text, reasons)
    grouped: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for line, row in rows:
        entry_id = cell(row.get("id"))
        if not entry_id:
            reasons.append(f"line {line}: empty id")
            continue
        grouped.setdefault(entry_id, []).append((line, row))
    entries: list[FaqEntry] = []
    for entry_id, entry_rows in grouped.items():
        try:
            entries.append(_entry(entry_id, entry_rows))
        except FaqError as exc:
            reasons.append(f"entry {entry_id!r}: {exc}")
    return entries, reasons


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            found = ", ".join(header) or "nothing"
            raise FaqError(f"bad CSV header: missing column(s) {', '.join(missing)} (found {found})")
        reader.fieldnames = header
        return [(reader.line_num, {k: v for k, v in row.items() if k is not None}) for row in reader]
    except csv.Error as exc:
        raise FaqError(f"bad CSV at line {reader.line_num}: {exc}") from exc


def _jsonl_rows(text: str, reasons: list[str]) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            reasons.append(f"line {number}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            reasons.append(f"line {number}: expected a JSON object")
            continue
        if "question" not in row and "answer" not in row:
            reasons.append(f"line {number}: needs a 'question' or an 'answer'")
            continue
        rows.append((number, row))
    return rows


def _entry(entry_id: str, rows: list[tuple[int, dict[str, Any]]]) -> FaqEntry:
    questions: list[str] = []
    tags: list[str] = []
    answer = title = lang = ""
    for line, row in rows:
        try:
            question = cell(row.get("question"))
            answer = answer or cell(row.get("answer"))
            title = title or cell(row.get("title"))
            lang = lang or cell(row.get("lang")).lower()
            row_tags = row.get("tags")
            sep = ";" if isinstance(row_tags, str) and ";" in row_tags else ","
            tags.extend(t for t in str_list(row_tags, "tags", sep) if t not in tags)
        except FaqError as exc:
            raise FaqError(f"line {line}: {exc}") from exc
        if question and question not in questions:
            questions.append(question)
    if not answer:
        raise FaqError("no row has an answer")
    if not title and not questions:
        raise FaqError("needs a title or at least one question")
    return FaqEntry(entry_id, title or questions[0], answer, lang, tuple(tags), tuple(questions))
