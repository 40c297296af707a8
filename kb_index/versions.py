"""Versioned index directories, switched atomically.

Layout::

    INDEX_DIR/CURRENT                     the live version's name (one line)
    INDEX_DIR/versions/<version>/manifest.json
                                 articles.json
                                 vectors.faiss, idmap.json
                                 bm25/, lexical.json          (kb_index.lexical)
                                 term_bridge.json, .npz       (kb_index.term_bridge, optional)
                                 calibration.json             (kb_index.self_calibration)

A build writes ``versions/.tmp-<version>/``, renames it to ``versions/<version>/``
(a reader never sees a half-written version), then replaces ``CURRENT`` through a
temporary file and ``os.replace``.  The newest ``keep`` versions are kept (the live
one always), older ones are pruned.  Rolling back is :func:`activate` of an older
kept version; :func:`list_versions` describes them.

Rebuilds are incremental: vectors come from the content-hash cache in
``INDEX_DIR/cache/`` (:mod:`kb_index.embed_cache`) and only new or changed chunks
are encoded; ``BuildReport.reused`` / ``.embedded`` say how many of each.
``on_progress(done, total, stage)`` follows a build: ``loading`` (0, 0), then
``embedding`` (chunks with a vector so far, of all chunks) after the cache lookup
and after every batch, then ``writing`` and ``done`` (total, total).  It is called
in the building thread; an exception it raises aborts the build (nothing written).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kb_index import lexical
from kb_index.build_progress import ProgressCallback, fan_out, terminal_bar
from kb_index.calibration import Calibration
from kb_index.chunking import chunk_articles
from kb_index.embed_cache import EmbeddingCache, embed_texts
from kb_index.embedder import Embedder
from kb_index.fusion import PASSAGE_WEIGHT
from kb_index.lexical import LexicalIndex
from kb_index.sources import Article, SourceError, load_sources
from kb_index.term_bridge import TermBridge
from kb_index.vector_index import IndexFormatError, VectorIndex

log = logging.getLogger(__name__)

CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
MANIFEST_FILE = "manifest.json"
ARTICLES_FILE = "articles.json"
FORMAT = 1
DEFAULT_KEEP = 5
BATCH_SIZE = 64
STALE_TMP_SECONDS = 3600  # a .tmp- build directory older than this was left by a crash


@dataclass(frozen=True, slots=True)
class BuildReport:
    version: str
    path: Path
    article_count: int
    chunk_count: int
    errors: tuple[SourceError, ...] = ()
    skipped: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()
    seconds: float = 0.0
    reused: int = 0  # chunk vectors taken from the embedding cache
    embedded: int = 0  # chunk texts encoded by this build
    calibration_seconds: float = 0.0  # spent on the self-calibration (part of ``seconds``)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One kept index version, as the admin page lists it."""

    version: str
    created_at: str
    articles: int
    chunks: int
    embedder: str
    current: bool
    errors: int = 0


@dataclass(frozen=True, slots=True)
class LoadedIndex:
    """One index version in memory.  Immutable: swapped whole, never edited."""

    version: str
    manifest: Mapping[str, Any]
    articles: Mapping[str, Article]
    vectors: VectorIndex = field(repr=False)
    lexical: LexicalIndex | None = field(default=None, repr=False)  # BM25; None: older version
    bridge: TermBridge | None = field(default=None, repr=False)  # None: built without one
    article_lang: Mapping[str, str] = field(default_factory=dict, repr=False)  # article id -> lang
    calibration: Calibration | None = field(default=None, repr=False)  # None: built without one

    @property
    def embedder_name(self) -> str:
        return str(self.manifest.get("embedder", {}).get("name", ""))

    @property
    def passage_weight(self) -> float:
        """The passage-mean share this version was calibrated with (0: none)."""
        return float(self.manifest.get("passage_weight", 0.0) or 0.0)


def next_version_name(index_dir: str | Path) -> str:
    """A fresh version name (UTC time of the build), to pass to :func:`build_index`."""
    return _new_version(Path(index_dir) / VERSIONS_DIR)


def _new_version(versions: Path) -> str:
    now = datetime.now(UTC)
    base = now.strftime("%Y%m%d-%H%M%S-%f")
    name, n = base, 1
    while (versions / name).exists() or (versions / f".tmp-{name}").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def build_index(
    source_dir: str | Path,
    index_dir: str | Path,
    embedder: Embedder,
    *,
    strict: bool = False,
    progress: bool = True,
    keep: int = DEFAULT_KEEP,
    on_progress: ProgressCallback | None = None,
    cache: bool = True,
    batch_size: int = BATCH_SIZE,
    version: str | None = None,
    terms: Embedder | None = None,
    self_calibrate: bool | None = None,
) -> BuildReport:
    """Load sources, embed (reusing cached vectors), write a new version and make
    it CURRENT.  ``progress`` shows a bar on stderr; ``on_progress`` is the
    callback described in the module docstring; ``cache=False`` embeds everything;
    ``version`` names the new version (default: :func:`next_version_name`);
    ``terms`` is the word encoder of the cross-language term bridge
    (:mod:`kb_index.term_bridge`; None: no bridge); ``self_calibrate`` measures the
    KB's own score scale and stores the calibration in the version
    (:mod:`kb_index.self_calibration`; default: with every embedder but the test hash
    embedder, whose hand-set calibration the tests rely on).

    Broken source files are reported in ``BuildReport.errors`` and left out; with
    ``strict`` they raise :class:`kb_index.sources.SourceLoadError` before anything
    is written.  A missing ``source_dir`` raises FileNotFoundError (an empty index
    must not replace a good one because of a typo in a path).
    """
    if progress:
        with terminal_bar(f"Embedding with {embedder.name}") as bar:
            return build_index(source_dir, index_dir, embedder, strict=strict, progress=False,
                               keep=keep, on_progress=fan_out(bar, on_progress), cache=cache,
                               batch_size=batch_size, version=version, terms=terms,
                               self_calibrate=self_calibrate)
    report = fan_out(on_progress)
    started = time.monotonic()
    if not Path(source_dir).is_dir():
        raise FileNotFoundError(f"knowledge-base directory not found: {source_dir}")
    report(0, 0, "loading")
    loaded = load_sources(source_dir, strict=strict)
    chunks = chunk_articles(loaded.articles)

    versions = Path(index_dir) / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    version = version or _new_version(versions)
    if (versions / version).exists():
        raise FileExistsError(f"index version {version!r} already exists in {index_dir}")
    tmp = versions / f".tmp-{version}"
    tmp.mkdir()
    embed_cache = EmbeddingCache.for_index(index_dir) if cache else None
    try:
        embedded = embed_texts(
            embedder, [c.text for c in chunks],
            embed_cache,
            batch_size=batch_size,
            on_batch=lambda done: report(done, len(chunks), "embedding"),
        )
        dim = embedded.vectors.shape[1] if chunks else embedder.dim
        vectors = VectorIndex(dim)
        vectors.add(embedded.vectors, chunks)
        bridge = None
        article_lang = {a.id: a.lang for a in loaded.articles}
        if terms is not None:
            bridge = TermBridge.build(chunks, article_lang, terms, embed_cache)
        lexical_index = LexicalIndex.from_chunks(chunks)
        calibrated = None
        from kb_index import self_calibration  # it scores over a LoadedIndex: imported here

        wanted = self_calibrate if self_calibrate is not None else not embedder.name.startswith("hash")
        if wanted and chunks:
            report(len(chunks), len(chunks), "calibrating")
            in_memory = LoadedIndex(version, {"passage_weight": PASSAGE_WEIGHT},
                                    {a.id: a for a in loaded.articles}, vectors, lexical_index, bridge,
                                    article_lang)
            calibrated = self_calibration.self_calibrate(in_memory, loaded.articles, embedder,
                                                         terms=terms, cache=embed_cache,
                                                         model=_calibration_model(index_dir))
        report(len(chunks), len(chunks), "writing")
        manifest = {
            "format": FORMAT,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "embedder": {"name": embedder.name, "dim": dim},
            "article_count": len(loaded.articles),
            "chunk_count": len(chunks),
            "source_dir": str(Path(source_dir).resolve()),
            "errors": [asdict(e) for e in loaded.errors],
            "skipped": list(loaded.skipped),
            "reused": embedded.reused,
            "embedded": embedded.embedded,
            "term_bridge": {
                "encoder": bridge.encoder_name,
                "words": {lang: len(v.tokens) for lang, v in bridge.vocab.items()},
            } if bridge else None,
            "self_calibration": {k: v for k, v in calibrated.to_dict().items() if k != "calibration"}
            if calibrated else None,
            "passage_weight": PASSAGE_WEIGHT if calibrated else 0.0,
        }
        _write_json(tmp / MANIFEST_FILE, manifest)
        _write_json(tmp / ARTICLES_FILE, [_article_dict(a) for a in loaded.articles])
        vectors.save(tmp)
        lexical_index.save(tmp)
        if bridge is not None:
            bridge.save(tmp)
        if calibrated is not None:
            self_calibration.save(tmp, calibrated)
        os.replace(tmp, versions / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    set_current(index_dir, version)
    pruned = prune_versions(index_dir, keep=keep)
    report(len(chunks), len(chunks), "done")
    return BuildReport(
        version=version,
        path=versions / version,
        article_count=len(loaded.articles),
        chunk_count=len(chunks),
        errors=loaded.errors,
        skipped=loaded.skipped,
        pruned=tuple(pruned),
        seconds=time.monotonic() - started,
        reused=embedded.reused,
        embedded=embedded.embedded,
        calibration_seconds=calibrated.seconds if calibrated else 0.0,
    )


def _calibration_model(index_dir: str | Path) -> Calibration:
    """The weights a new version's calibration uses: those ``guichet kb calibrate``
    refitted from feedback for this index directory, else the shipped ones."""
    from kb_index.feedback_fit import load_model
    from kb_index.self_calibration import SELF_E5

    try:
        return load_model(index_dir) or SELF_E5
    except (OSError, ValueError) as exc:
        log.warning("knowledge base: ignoring the feedback calibration of %s: %s", index_dir, exc)
        return SELF_E5


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


def _article_dict(article: Article) -> dict[str, Any]:
    data = asdict(article)
    data["tags"] = list(article.tags)
    data["questions"] = list(article.questions)
    return data


def set_current(index_dir: str | Path, version: str) -> None:
    """Point CURRENT at ``version`` atomically."""
    index_dir = Path(index_dir)
    if not (index_dir / VERSIONS_DIR / version / MANIFEST_FILE).is_file():
        raise FileNotFoundError(f"no index version {version!r} in {index_dir}")
    tmp = index_dir / f".{CURRENT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(version + "\n", "utf-8")
    os.replace(tmp, index_dir / CURRENT_FILE)


def current_version(index_dir: str | Path) -> str | None:
    """The live version's name, or None when nothing was built yet."""
    try:
        name = (Path(index_dir) / CURRENT_FILE).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def version_names(index_dir: str | Path) -> list[str]:
    """Complete versions, oldest first."""
    versions = Path(index_dir) / VERSIONS_DIR
    if not versions.is_dir():
        return []
    return sorted(
        p.name
        for p in versions.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_FILE).is_file()
    )


def list_versions(index_dir: str | Path) -> list[VersionInfo]:
    """Every kept version, newest first, with what its manifest says."""
    live = current_version(index_dir)
    infos = []
    for name in reversed(version_names(index_dir)):
        try:
            manifest = json.loads((Path(index_dir) / VERSIONS_DIR / name / MANIFEST_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            continue  # pruned or broken while we looked: not a version to offer
        infos.append(VersionInfo(
            version=name,
            created_at=str(manifest.get("created_at", "")),
            articles=int(manifest.get("article_count", 0)),
            chunks=int(manifest.get("chunk_count", 0)),
            embedder=str(manifest.get("embedder", {}).get("name", "")),
            current=name == live,
            errors=len(manifest.get("errors", ())),
        ))
    return infos


def activate(index_dir: str | Path, version: str) -> None:
    """Make a kept ``version`` the live one (a rollback, or forward again): checks
    that it loads, then switches CURRENT atomically.  Raises FileNotFoundError for
    an unknown version and IndexFormatError for a damaged one."""
    if version not in version_names(index_dir):
        raise FileNotFoundError(f"no index version {version!r} in {index_dir}")
    load_version(index_dir, version)
    set_current(index_dir, version)


def prune_versions(index_dir: str | Path, keep: int = DEFAULT_KEEP) -> list[str]:
    """Delete all but the newest ``keep`` versions; never the CURRENT one.  Build
    directories a crash left behind (``.tmp-*`` older than an hour) go too."""
    live = current_version(index_dir)
    names = version_names(index_dir)
    doomed = [v for v in names[: max(0, len(names) - max(1, keep))] if v != live]
    for name in doomed:
        shutil.rmtree(Path(index_dir) / VERSIONS_DIR / name, ignore_errors=True)
    cutoff = time.time() - STALE_TMP_SECONDS
    for tmp in (Path(index_dir) / VERSIONS_DIR).glob(".tmp-*"):
        try:
            if tmp.stat().st_mtime < cutoff:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass
    return doomed


def load_version(index_dir: str | Path, version: str) -> LoadedIndex:
    """Read one version from disk (raises IndexFormatError when it is unusable)."""
    path = Path(index_dir) / VERSIONS_DIR / version
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text("utf-8"))
        raw_articles = json.loads((path / ARTICLES_FILE).read_text("utf-8"))
        articles = {
            a["id"]: Article(
                id=a["id"],
                title=a["title"],
                body=a["body"],
                lang=a.get("lang", ""),
                tags=tuple(a.get("tags", ())),
                questions=tuple(a.get("questions", ())),
                source=a.get("source", ""),
            )
            for a in raw_articles
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFormatError(f"cannot load index version {version!r} from {path}: {exc}") from exc
    return LoadedIndex(
        version=version,
        manifest=MappingProxyType(manifest),
        articles=MappingProxyType(articles),
        vectors=VectorIndex.load(path),
        lexical=_load_lexical(path),
        bridge=_load_bridge(path),
        article_lang=MappingProxyType({a.id: a.lang for a in articles.values()}),
        calibration=_load_calibration(path),
    )


def _load_lexical(path: Path) -> LexicalIndex | None:
    try:
        return lexical.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFormatError(f"cannot load the BM25 index from {path}: {exc}") from exc


def _load_bridge(path: Path) -> TermBridge | None:
    try:
        return TermBridge.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFormatError(f"cannot load the term bridge from {path}: {exc}") from exc


def _load_calibration(path: Path) -> Calibration | None:
    from kb_index import self_calibration

    try:
        return self_calibration.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFormatError(f"cannot load the calibration from {path}: {exc}") from exc


def load_current(index_dir: str | Path) -> LoadedIndex | None:
    version = current_version(index_dir)
    return load_version(index_dir, version) if version else None
