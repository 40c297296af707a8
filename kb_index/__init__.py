"""Knowledge base: sources, chunking, embedders, FAISS index versions, retriever,
evaluation and the ``guichet kb`` commands.

Typical use::

    from kb_index import KBRetriever, build_index, make_embedder

    embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
    build_index(settings.kb.source_dir, settings.index_path, embedder)
    retriever = KBRetriever(settings.index_path, embedder)   # a gateway Retriever
    await retriever.reload_if_changed()                       # from a periodic task
"""

from kb_index.calibration import Calibration, calibration_for, fit_calibration
from kb_index.chunking import Chunk, chunk_article, chunk_articles, split_passages
from kb_index.cli import add_kb_commands, build_default_index, run_kb_command
from kb_index.embed_cache import EmbeddingCache
from kb_index.embedder import (
    Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from kb_index.eval_report import CaseResult, EvalReport, Metrics
from kb_index.evaluate import Case, CaseFileError, evaluate, evaluate_many_async, load_cases
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
    "IndexFormatError",
    "KBRetriever",
    "LexicalIndex",
    "LoadResult",
    "LoadedIndex",
    "Metrics",
    "SentenceTransformerEmbedder",
    "SourceError",
    "SourceLoadError",
    "VectorIndex",
    "VersionInfo",
    "activate",
    "add_kb_commands",
    "build_default_index",
    "build_index",
    "calibration_for",
    "choose_threshold",
    "chunk_article",
    "chunk_articles",
    "current_version",
    "evaluate",
    "evaluate_many_async",
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
    "run_kb_command",
    "set_current",
    "split_passages",
    "tokenize",
    "version_names",
    "write_threshold",
]
