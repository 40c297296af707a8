"""Knowledge-base administration: edit and upload sources, re-index, roll back.

The service behind ``/admin/kb`` and the KB loop's approval step.  No web code:
the aiohttp layer is :mod:`gateway.web.kb_admin_page`.  Stable API::

    admin = KBAdmin(source_dir, index_dir, embedder, bus=bus, retriever=retriever)
    admin.save_article("refund-delay", "Refund delays", "en", ["billing"], "Refunds take ...",
                       questions=["When do I get my money back?"])   # -> SavedArticle
    report = await admin.reindex()       # -> kb_index.BuildReport (report.version is live)
    await admin.rollback(version)        # -> kb_index.VersionInfo

``save_article(article_id, title, lang, tags, body, *, questions=(), create=False)``
writes ``<source_dir>/<id>.md`` (TOML front matter) atomically, or rewrites the
Markdown file that already holds that id; ``create=True`` refuses an existing id.
It blocks (file I/O, parses the KB): async callers may run it in an executor.
``reindex()`` is single-flight: a call while a build runs joins that build and
gets its report.  The build runs in a worker thread with the live retriever's
embedder (no second model in memory), reuses cached vectors for unchanged text,
and the retriever switches to the new version as soon as it is written.
Progress goes on the bus as ``kb.progress`` ``{done, total, stage, version}``
(stages ``starting``, ``loading``, ``embedding``, ``writing``, ``done``, ``failed``
with ``error``), then ``kb.indexed`` (the report); a rollback publishes
``kb.activated`` ``{version}``.  Errors are :mod:`gateway.errors` with a reason
an admin can read: InvalidInputError, NotFoundError, ConflictError.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.kb.files import atomic_write, clean_list, markdown_article, one_line, relative_to, upload_name
from gateway.kb.reindex import ReindexCancelled, Reindexer, ReindexStatus, report_dict
from gateway.protocols import EventBus
from kb_index.embedder import Embedder
from kb_index.sources import EXTENSIONS, Article, load_file, load_sources
from kb_index.text_source import normalise_lang
from kb_index.versions import DEFAULT_KEEP, BuildReport, VersionInfo, list_versions

__all__ = ["ArticleDetail", "ArticleSummary", "Catalog", "KBAdmin", "ReindexCancelled", "ReindexStatus",
           "SavedArticle", "UploadResult", "report_dict"]

ARTICLE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?$")
MAX_TITLE, MAX_BODY, MAX_TAGS, MAX_TAG, MAX_QUESTIONS = 200, 100_000, 20, 50, 50
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
SINGLE_ARTICLE = (".md", ".html", ".htm", ".txt")
FORMATS = {".md": "markdown", ".csv": "faq-csv", ".jsonl": "faq-jsonl", ".html": "html", ".htm": "html",
           ".txt": "text"}


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    id: str
    title: str
    lang: str
    tags: tuple[str, ...]
    source: str  # path relative to the KB directory
    format: str  # markdown | faq-csv | faq-jsonl | html | text
    editable: bool  # saved back as Markdown (only Markdown articles are)
    deletable: bool  # its file holds this article alone

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags)}


@dataclass(frozen=True, slots=True)
class ArticleDetail(ArticleSummary):
    body: str = ""
    questions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags), "questions": list(self.questions)}


@dataclass(frozen=True, slots=True)
class Catalog:
    articles: tuple[ArticleSummary, ...]
    errors: tuple[tuple[str, str], ...]  # (relative path, reason) of broken sources


@dataclass(frozen=True, slots=True)
class SavedArticle:
    id: str
    path: str  # relative to the KB directory
    created: bool


@dataclass(frozen=True, slots=True)
class UploadResult:
    filename: str
    articles: tuple[str, ...]  # the ids the file holds
    replaced: bool  # a file of that name was there before


class KBAdmin:
    def __init__(self, source_dir: str | Path, index_dir: str | Path, embedder: Embedder, *,
                 bus: EventBus | None = None, retriever: object | None = None, keep: int = DEFAULT_KEEP,
                 max_upload_bytes: int = MAX_UPLOAD_BYTES, batch_size: int = 32) -> None:
        self.source_dir, self.index_dir = Path(source_dir), Path(index_dir)
        self.embedder = embedder
        self.max_upload_bytes = max_upload_bytes
        self.indexer = Reindexer(self.source_dir, self.index_dir, embedder, bus=bus, retriever=retriever,
                                 keep=keep, batch_size=batch_size)

    # ------------------------------------------------------------- articles
    def catalog(self) -> Catalog:
        loaded = load_sources(self.source_dir)
        return Catalog(tuple(self._summary(a) for a in loaded.articles),
                       tuple((self._rel(e.path), e.reason) for e in loaded.errors))

    def list_articles(self) -> list[ArticleSummary]:
        return list(self.catalog().articles)

    def get_article(self, article_id: str) -> ArticleDetail:
        article = self._find(article_id)
        if article is None:
            raise NotFoundError(f"no article {article_id!r} in the knowledge base")
        return ArticleDetail(**asdict(self._summary(article)), body=article.body, questions=article.questions)

    def save_article(self, article_id: str, title: str, lang: str, tags: Sequence[str] | str, body: str,
                     *, questions: Sequence[str] = (), create: bool = False) -> SavedArticle:
        article_id = str(article_id).strip()
        if not ARTICLE_ID.match(article_id):
            raise InvalidInputError("the id must be 1-100 lower-case letters, digits, '-' or '_', "
                                    "starting and ending with a letter or digit")
        title = one_line(title)
        if not title or len(title) > MAX_TITLE:
            raise InvalidInputError(f"the title is required and at most {MAX_TITLE} characters")
        code = normalise_lang(lang) if str(lang).strip() else ""
        if str(lang).strip() and not code:
            raise InvalidInputError(f"{lang!r} is not a language code (en, fr, ...)")
        clean_tags = clean_list(tags.split(",") if isinstance(tags, str) else tags, MAX_TAGS, MAX_TAG, "tag")
        variants = clean_list(questions, MAX_QUESTIONS, 500, "question")
        body = unicodedata.normalize("NFC", str(body).replace("\r\n", "\n")).strip()
        if not body or len(body) > MAX_BODY:
            raise InvalidInputError(f"the body is required and at most {MAX_BODY} characters")
        existing = self._find(article_id)
        if existing is not None and create:
            raise ConflictError(f"an article {article_id!r} already exists ({self._rel(existing.source)})")
        if existing is not None and Path(existing.source).suffix.lower() != ".md":
            raise ConflictError(f"article {article_id!r} comes from {self._rel(existing.source)}: "
                                "edit that file and upload it again")
        path = Path(existing.source) if existing is not None else self.source_dir / f"{article_id}.md"
        if existing is None and path.exists():
            raise ConflictError(f"{path.name} already exists and holds another article or cannot be read")
        relative_to(path, self.source_dir)  # refuses anything outside the KB directory
        atomic_write(path, markdown_article(article_id, title, code, clean_tags, body, variants).encode())
        return SavedArticle(article_id, self._rel(path), created=existing is None)

    def delete_article(self, article_id: str) -> str:
        """Delete the file of a one-article source (Markdown, HTML, text); returns its path."""
        article = self._find(article_id)
        if article is None:
            raise NotFoundError(f"no article {article_id!r} in the knowledge base")
        path = Path(article.source)
        if path.suffix.lower() not in SINGLE_ARTICLE:
            raise ConflictError(f"article {article_id!r} is an entry of {self._rel(path)}, which holds "
                                "other entries: edit that table and upload it again")
        relative_to(path, self.source_dir)
        if [a.id for a in load_file(path, self.source_dir).articles] != [article_id]:
            raise ConflictError(f"{self._rel(path)} changed meanwhile; reload and try again")
        path.unlink()
        return self._rel(path)

    def upload(self, filename: str, data: bytes) -> UploadResult:
        """Keep an uploaded source file at the top of the KB directory (replacing one of the
        same name) once it parses without error and its ids clash with no other file."""
        name = upload_name(filename, EXTENSIONS)
        if not data or len(data) > self.max_upload_bytes:
            raise InvalidInputError(f"{name}: {len(data)} bytes; a file must hold 1 to "
                                    f"{self.max_upload_bytes} bytes")
        with tempfile.TemporaryDirectory(prefix="guichet-upload-") as tmp:
            (Path(tmp) / name).write_bytes(data)
            checked = load_file(Path(tmp) / name, tmp)
        if checked.errors:
            reasons = "; ".join(e.reason for e in checked.errors[:5])
            raise InvalidInputError(f"{name} was not kept: {reasons}")
        if not checked.articles:
            raise InvalidInputError(f"{name} was not kept: it holds no article")
        target = self.source_dir / name
        others = {a.id: a.source for a in load_sources(self.source_dir).articles if Path(a.source) != target}
        clashes = [f"{a.id!r} (in {self._rel(others[a.id])})" for a in checked.articles if a.id in others]
        if clashes:
            raise ConflictError(f"{name} was not kept: these ids already exist: {', '.join(clashes)}")
        replaced = target.exists()
        atomic_write(target, data)
        return UploadResult(name, tuple(a.id for a in checked.articles), replaced)

    # ------------------------------------------------------- index versions
    def versions(self) -> list[VersionInfo]:
        return list_versions(self.index_dir)

    def status(self) -> ReindexStatus:
        return self.indexer.status

    @property
    def running(self) -> bool:
        return self.indexer.running

    def start_reindex(self) -> bool:
        """Start a build in the background; False if one is already running."""
        return self.indexer.start()

    async def reindex(self) -> BuildReport:
        return await self.indexer.reindex()

    async def rollback(self, version: str) -> VersionInfo:
        return await self.indexer.rollback(version)

    async def aclose(self) -> None:
        await self.indexer.aclose()

    # -------------------------------------------------------------- helpers
    def _find(self, article_id: str) -> Article | None:
        return next((a for a in load_sources(self.source_dir).articles if a.id == article_id), None)

    def _rel(self, path: str | Path) -> str:
        try:
            return Path(os.path.relpath(path, self.source_dir)).as_posix()
        except ValueError:
            return str(path)

    def _summary(self, a: Article) -> ArticleSummary:
        suffix = Path(a.source).suffix.lower()
        return ArticleSummary(a.id, a.title, a.lang, a.tags, self._rel(a.source), FORMATS.get(suffix, suffix),
                              editable=suffix == ".md", deletable=suffix in SINGLE_ARTICLE)
