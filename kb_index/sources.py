"""Load a knowledge-base directory into :class:`Article` objects.

Formats (see DESIGN.md, "Knowledge base formats"):

- ``.md``: front matter, ``+++`` TOML (Hugo style) or ``---`` YAML, with ``id`` and
  ``title`` (required), ``lang``, ``tags`` and optional ``questions`` (variants);
  the body is the answer.
- ``.csv`` / ``.jsonl`` FAQ tables with ``id, question, answer`` (optional ``title``,
  ``lang``, ``tags``); rows sharing an id are question variants of one entry, whose
  answer is the first non-empty one (:mod:`kb_index.faq_source`).
- ``.html`` / ``.htm`` pages, boilerplate removed and sanitised
  (:mod:`kb_index.html_source`); ``.txt`` plain text, first line the title
  (:mod:`kb_index.text_source`).  Their id is ``<meta name="guichet-id">`` or the
  slug of their path.

Every article has a language: the declared one (front matter, column, ``<html
lang>``; ``fr-FR`` is ``fr``), else the one detected in its text.

A broken file (or a broken row of a FAQ table) becomes a :class:`SourceError` with
the path and a reason an admin can act on; everything else still loads.  With
``strict=True`` any error raises :class:`SourceLoadError` listing all of them.
Files with other extensions, and hidden files, are listed as skipped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from kb_index.faq_source import FaqError, parse_faq, str_list
from kb_index.html_source import HtmlSourceError, decode_html, parse_html
from kb_index.text_source import TextSourceError, article_lang, parse_text, path_slug

MARKDOWN_EXTENSIONS = (".md",)
FAQ_EXTENSIONS = (".csv", ".jsonl")
HTML_EXTENSIONS = (".html", ".htm")
TEXT_EXTENSIONS = (".txt",)
EXTENSIONS = MARKDOWN_EXTENSIONS + FAQ_EXTENSIONS + HTML_EXTENSIONS + TEXT_EXTENSIONS


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    body: str
    lang: str = ""
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    source: str = ""  # the file it came from


@dataclass(frozen=True, slots=True)
class SourceError:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LoadResult:
    articles: tuple[Article, ...]
    errors: tuple[SourceError, ...] = ()
    skipped: tuple[str, ...] = ()


class SourceLoadError(Exception):
    """Raised in strict mode; ``errors`` lists every broken file."""

    def __init__(self, errors: Iterable[SourceError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} broken knowledge-base source(s):\n{lines}")


class _Broken(Exception):
    """A reason why one file (or row) cannot be loaded."""


@dataclass
class _Collector:
    articles: dict[str, Article] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)

    def add(self, article: Article) -> None:
        article = replace(article, lang=article_lang(article.lang, article.title, article.body))
        previous = self.articles.get(article.id)
        if previous is not None:
            self.errors.append(
                SourceError(
                    article.source,
                    f"duplicate id {article.id!r} (already defined in {previous.source})",
                )
            )
            return
        self.articles[article.id] = article


def load_sources(source_dir: str | Path, *, strict: bool = False) -> LoadResult:
    """Load every article under ``source_dir`` (recursively, in path order)."""
    root = Path(source_dir)
    if not root.is_dir():
        error = SourceError(str(root), "knowledge-base directory not found")
        if strict:
            raise SourceLoadError([error])
        return LoadResult((), (error,), ())
    collector = _Collector()
    skipped: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.suffix.lower() not in EXTENSIONS:
            skipped.append(str(path))
            continue
        _load_file(path, rel, collector)
    if strict and collector.errors:
        raise SourceLoadError(collector.errors)
    return LoadResult(tuple(collector.articles.values()), tuple(collector.errors), tuple(skipped))


def load_file(path: str | Path, root: str | Path | None = None) -> LoadResult:
    """Load one file as :func:`load_sources` would (its id slug, if it needs one, is
    taken from its path inside ``root``, by default its own directory)."""
    path = Path(path)
    if path.suffix.lower() not in EXTENSIONS:
        known = ", ".join(EXTENSIONS)
        return LoadResult((), (SourceError(str(path), f"unsupported file type (expected {known})"),))
    collector = _Collector()
    _load_file(path, path.relative_to(root) if root is not None else Path(path.name), collector)
    return LoadResult(tuple(collector.articles.values()), tuple(collector.errors))


def _load_file(path: Path, rel: Path, collector: _Collector) -> None:
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
        text = decode_html(data) if suffix in HTML_EXTENSIONS else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        collector.errors.append(SourceError(str(path), f"not valid UTF-8 ({exc.reason})"))
        return
    except OSError as exc:
        collector.errors.append(SourceError(str(path), f"cannot read: {exc.strerror}"))
        return
    try:
        if suffix in MARKDOWN_EXTENSIONS:
            collector.add(parse_markdown(text, str(path)))
        elif suffix in HTML_EXTENSIONS:
            page = parse_html(text)
            collector.add(Article(id=page.id or _slug(rel), title=page.title, body=page.body,
                                  lang=page.lang, tags=page.tags, source=str(path)))
        elif suffix in TEXT_EXTENSIONS:
            title, body = parse_text(text)
            collector.add(Article(id=_slug(rel), title=title, body=body, source=str(path)))
        else:
            _load_faq(text, str(path), suffix, collector)
    except (_Broken, FaqError, HtmlSourceError, TextSourceError) as exc:
        collector.errors.append(SourceError(str(path), str(exc)))


def _slug(rel: Path) -> str:
    slug = path_slug(rel)
    if not slug:
        raise _Broken("cannot make an id from the file name: rename it with letters or digits")
    return slug


# ------------------------------------------------------------------ markdown


def _split_front_matter(text: str) -> tuple[str, str, str]:
    """Return (kind, front matter, body) with kind "toml" or "yaml"."""
    lines = text.splitlines(keepends=True)
    first = lines[0].strip() if lines else ""
    if first not in ("+++", "---"):
        raise _Broken("no front matter (expected a first line '+++' for TOML or '---' for YAML)")
    for i in range(1, len(lines)):
        if lines[i].strip() == first:
            return (
                "toml" if first == "+++" else "yaml",
                "".join(lines[1:i]),
                "".join(lines[i + 1 :]),
            )
    raise _Broken(f"front matter is not closed (no second '{first}' line)")


def _scalar(meta: Mapping[str, Any], key: str, *, required: bool) -> str:
    value = meta.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Broken(f"missing required field {key!r}")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Broken(f"field {key!r} must be text, got {type(value).__name__}")
    return str(value).strip()


def parse_markdown(text: str, source: str = "") -> Article:
    """Parse one Markdown article with TOML or YAML front matter."""
    kind, front, body = _split_front_matter(text)
    try:
        meta: Any = tomllib.loads(front) if kind == "toml" else yaml.safe_load(front)
    except tomllib.TOMLDecodeError as exc:
        raise _Broken(f"bad TOML front matter: {exc}") from exc
    except yaml.YAMLError as exc:
        raise _Broken(f"bad YAML front matter: {' '.join(str(exc).split())}") from exc
    if not isinstance(meta, dict):
        raise _Broken("front matter must be a table of fields (id, title, ...)")
    body = body.strip()
    if not body:
        raise _Broken("empty body: the article has no answer text")
    return Article(
        id=_scalar(meta, "id", required=True),
        title=_scalar(meta, "title", required=True),
        body=body,
        lang=_scalar(meta, "lang", required=False).lower(),
        tags=str_list(meta.get("tags"), "tags"),
        questions=str_list(meta.get("questions"), "questions", sep="\n"),
        source=source,
    )


def _load_faq(text: str, path: str, suffix: str, collector: _Collector) -> None:
    entries, reasons = parse_faq(text, suffix)
    collector.errors.extend(SourceError(path, reason) for reason in reasons)
    for e in entries:
        collector.add(Article(id=e.id, title=e.title, body=e.answer, lang=e.lang, tags=e.tags,
                              questions=e.questions, source=path))
