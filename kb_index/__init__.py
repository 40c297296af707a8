"""Knowledge base library: sources, chunking, embedders, FAISS + BM25 index versions,
the retriever and its calibration, and what measuring it needs (cases, metrics,
threshold choice).  It imports nothing from the application that uses it.

Typical use::

    from kb_index import KBRetriever, build_index, make_embedder

    embedder = make_embedder("e5")
    build_index("kb/", "data/index", embedder)
    retriever = KBRetriever("data/index", embedder)   # a kb_index.contracts.Retriever
    await retriever.reload_if_changed()               # from a periodic task

The names below are loaded on first use: ``import kb_index`` (which importing any
submodule, such as :mod:`kb_index.contracts`, does first) costs nothing, and the index
machinery (numpy, FAISS, BM25) is imported only by a program that uses it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb_index.calibration import Calibration, calibration_for, fit_calibration
    from kb_index.chunking import Chunk, chunk_article, chunk_articles, split_passages
    from kb_index.config import KBConfig
    from kb_index.contracts import Hit, Retriever, SearchResult
    from kb_index.embed_cache import EmbeddingCache
    from kb_index.embedder import Embedder, HashEmbedder, SentenceTransformerEmbedder, make_embedder
    from kb_index.eval_report import CaseResult, EvalReport, Metrics
    from kb_index.evaluate import Case, CaseFileError, load_cases, temporary_index
    from kb_index.fusion import FusionConfig
    from kb_index.lexical import LexicalIndex, tokenize
    from kb_index.retriever import KBRetriever
    from kb_index.sources import (
        Article,
        LoadResult,
        SourceError,
        SourceLoadError,
        load_file,
        load_sources,
        parse_markdown,
    )
    from kb_index.tune import choose_threshold, write_threshold
    from kb_index.vector_index import IndexFormatError, VectorIndex
    from kb_index.versions import (
        BuildReport,
        LoadedIndex,
        VersionInfo,
        activate,
        build_index,
        current_version,
        list_versions,
        load_current,
        load_version,
        next_version_name,
        prune_versions,
        set_current,
        version_names,
    )

# Where each public name lives: the imports above, for type checkers, say the same,
# and so does __all__ (tests/kb_index/test_package.py keeps the three in step).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "kb_index.calibration": ("Calibration", "calibration_for", "fit_calibration"),
    "kb_index.chunking": ("Chunk", "chunk_article", "chunk_articles", "split_passages"),
    "kb_index.config": ("KBConfig",),
    "kb_index.contracts": ("Hit", "Retriever", "SearchResult"),
    "kb_index.embed_cache": ("EmbeddingCache",),
    "kb_index.embedder": ("Embedder", "HashEmbedder", "SentenceTransformerEmbedder", "make_embedder"),
    "kb_index.eval_report": ("CaseResult", "EvalReport", "Metrics"),
    "kb_index.evaluate": ("Case", "CaseFileError", "load_cases", "temporary_index"),
    "kb_index.fusion": ("FusionConfig",),
    "kb_index.lexical": ("LexicalIndex", "tokenize"),
    "kb_index.retriever": ("KBRetriever",),
    "kb_index.sources": (
        "Article", "LoadResult", "SourceError", "SourceLoadError", "load_file", "load_sources",
        "parse_markdown",
    ),
    "kb_index.tune": ("choose_threshold", "write_threshold"),
    "kb_index.vector_index": ("IndexFormatError", "VectorIndex"),
    "kb_index.versions": (
        "BuildReport", "LoadedIndex", "VersionInfo", "activate", "build_index", "current_version",
        "list_versions", "load_current", "load_version", "next_version_name", "prune_versions",
        "set_current", "version_names",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "Article",
    "BuildReport",
    "Calibration",
    "Case",
    "CaseFileError",
    "CaseResult",
    "Chunk",
    "Embedder",
    "EmbeddingCache",
    "EvalReport",
    "FusionConfig",
    "HashEmbedder",
    "Hit",
    "IndexFormatError",
    "KBConfig",
    "KBRetriever",
    "LexicalIndex",
    "LoadResult",
    "LoadedIndex",
    "Metrics",
    "Retriever",
    "SearchResult",
    "SentenceTransformerEmbedder",
    "SourceError",
    "SourceLoadError",
    "VectorIndex",
    "VersionInfo",
    "activate",
    "build_index",
    "calibration_for",
    "choose_threshold",
    "chunk_article",
    "chunk_articles",
    "current_version",
    "fit_calibration",
    "list_versions",
    "load_cases",
    "load_current",
    "load_file",
    "load_sources",
    "load_version",
    "make_embedder",
    "next_version_name",
    "parse_markdown",
    "prune_versions",
    "set_current",
    "split_passages",
    "temporary_index",
    "tokenize",
    "version_names",
    "write_threshold",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
