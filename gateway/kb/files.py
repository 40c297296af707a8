"""Files of the knowledge-base directory: safe paths, atomic writes, the Markdown
article format that :class:`gateway.kb.admin.KBAdmin` writes, and the checks of
what an admin typed (one-line fields, lists, upload names)."""

from __future__ import annotations

import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath, PureWindowsPath

from gateway.errors import InvalidInputError

UPLOAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")


def relative_to(path: Path, root: Path) -> Path:
    """``path`` relative to ``root``, both resolved (symbolic links and ``..``
    followed); InvalidInputError if it lies outside."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        raise InvalidInputError(f"{path.name}: outside the knowledge-base directory") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write through a hidden temporary file in the same directory and ``os.replace``:
    the loader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _toml(value: str) -> str:
    # A JSON string (control characters escaped, no "\/") is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def markdown_article(article_id: str, title: str, lang: str, tags: Sequence[str], body: str,
                     questions: Sequence[str] = ()) -> str:
    """A Markdown article with ``+++`` TOML front matter, as ``kb_index.sources`` reads it."""
    lines = ["+++", f"id = {_toml(article_id)}", f"title = {_toml(title)}"]
    if lang:
        lines.append(f"lang = {_toml(lang)}")
    lines.append(f"tags = [{', '.join(_toml(t) for t in tags)}]")
    if questions:
        lines.append("questions = [")
        lines += [f"  {_toml(q)}," for q in questions]
        lines.append("]")
    lines += ["+++", "", body.strip(), ""]
    return "\n".join(lines)


def one_line(text: object) -> str:
    """Text on one line: control characters dropped, runs of white space as one space."""
    return " ".join("".join(c for c in str(text) if unicodedata.category(c) != "Cc" or c.isspace()).split())


def clean_list(values: Iterable[object], max_items: int, max_chars: int, what: str) -> list[str]:
    """Distinct one-line items, in order; InvalidInputError past the limits."""
    cleaned: list[str] = []
    for value in values:
        item = one_line(value)
        if len(item) > max_chars:
            raise InvalidInputError(f"a {what} is at most {max_chars} characters")
        if item and item not in cleaned:
            cleaned.append(item)
    if len(cleaned) > max_items:
        raise InvalidInputError(f"at most {max_items} {what}s")
    return cleaned


def upload_name(filename: str, extensions: Sequence[str]) -> str:
    """The plain file name of an upload (any directory part dropped), checked."""
    name = PureWindowsPath(PurePath(filename).name).name.strip()
    if not UPLOAD_NAME.match(name) or Path(name).suffix.lower() not in extensions:
        raise InvalidInputError(f"{name!r}: expected a plain file name ending in {', '.join(extensions)}")
    return name
