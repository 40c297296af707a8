"""A content-hash cache of embeddings, so a rebuild re-embeds only changed chunks.

A vector is keyed by ``sha256(embedder name, NUL, text)``: the same text embedded
by the same model is never encoded twice, whichever article or file it moved to,
and a different model (or dimension: the hash embedder's name holds it) never
sees another model's vectors.

Storage is one SQLite file, ``INDEX_DIR/cache/embeddings.sqlite``, in WAL mode:
readers never block (a server can read while ``guichet kb index`` writes in
another process), writers wait on SQLite's lock, and a half-written entry is
never visible.  Each lookup or store marks the entry used; :meth:`prune` keeps the
``max_entries`` most recently used ones.  The cache is an optimisation only: a
missing, locked-out or corrupt cache file is logged and the build embeds
everything instead of failing (a corrupt file is set aside as ``*.corrupt``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb_index.embedder import Embedder

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
CACHE_FILE = "embeddings.sqlite"
DEFAULT_MAX_ENTRIES = 100_000  # ~150 MB of 384-d float32 vectors
_SQL_CHUNK = 500  # keys per IN (...) query

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key BLOB PRIMARY KEY,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    used_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_used_at ON vectors (used_at);
"""


def cache_key(embedder_name: str, text: str) -> bytes:
    return hashlib.sha256(f"{embedder_name}\0{text}".encode()).digest()


class EmbeddingCache:
    """Vectors by content hash in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | Path, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.path = Path(path)
        self.max_entries = max(1, max_entries)

    @classmethod
    def for_index(cls, index_dir: str | Path, **kwargs: int) -> EmbeddingCache:
        return cls(Path(index_dir) / CACHE_DIR / CACHE_FILE, **kwargs)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        return conn

    def get_many(self, keys: Sequence[bytes], dim: int | None = None) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys`` (of dimension ``dim`` if given), marked as used."""
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        try:
            with _closing(self._connect()) as conn:
                for i in range(0, len(unique), _SQL_CHUNK):
                    part = unique[i : i + _SQL_CHUNK]
                    marks = ",".join("?" * len(part))  # placeholders only, no data
                    query = f"SELECT key, dim, vector FROM vectors WHERE key IN ({marks})"  # noqa: S608
                    rows = conn.execute(query, part).fetchall()
                    for key, row_dim, blob in rows:
                        if (dim is None or row_dim == dim) and len(blob) == row_dim * 4:
                            found[bytes(key)] = np.frombuffer(blob, dtype=np.float32).copy()
                self._touch(conn, list(found))
        except sqlite3.Error as exc:
            log.warning("embedding cache %s unreadable (%s): embedding everything", self.path, exc)
            self._set_aside_if_corrupt(exc)
            return {}
        return found

    def _set_aside_if_corrupt(self, exc: sqlite3.Error) -> None:
        """A damaged file (not merely a locked one) is renamed, so the next store starts afresh."""
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            with contextlib.suppress(OSError):
                self.path.replace(self.path.with_name(self.path.name + ".corrupt"))

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [
            (key, int(vec.shape[0]), np.asarray(vec, dtype=np.float32).tobytes(), time.time_ns())
            for key, vec in items
        ]
        if not rows:
            return
        try:
            with _closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.warning("embedding cache %s not updated: %s", self.path, exc)

    @staticmethod
    def _touch(conn: sqlite3.Connection, keys: list[bytes]) -> None:
        now = time.time_ns()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("UPDATE vectors SET used_at = ? WHERE key = ?", [(now, k) for k in keys])
        conn.execute("COMMIT")

    def __len__(self) -> int:
        try:
            with _closing(self._connect()) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        except sqlite3.Error:
            return 0

    def prune(self, keep_at_least: int = 0) -> int:
        """Delete the least recently used entries beyond ``max_entries`` (never fewer
        than ``keep_at_least`` are kept, so the build that just ran keeps its vectors)."""
        limit = max(self.max_entries, keep_at_least)
        try:
            with _closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                count = int(conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
                extra = count - limit
                if extra > 0:
                    conn.execute(
                        "DELETE FROM vectors WHERE key IN "
                        "(SELECT key FROM vectors ORDER BY used_at ASC LIMIT ?)",
                        (extra,),
                    )
                conn.execute("COMMIT")
                return max(0, extra)
        except sqlite3.Error as exc:
            log.warning("embedding cache %s not pruned: %s", self.path, exc)
            return 0


class _closing:
    """Close (not just commit) a sqlite3 connection at the end of a ``with``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if self.conn.in_transaction:
            self.conn.rollback()
        self.conn.close()


@dataclass(frozen=True, slots=True)
class Embedded:
    vectors: np.ndarray  # one row per text, in order
    reused: int  # texts whose vector came from the cache
    embedded: int  # distinct texts encoded now


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    batch_size: int = 64,
    on_batch: Callable[[int], None] | None = None,
) -> Embedded:
    """Vectors for ``texts``: from the cache where present, encoded in batches
    otherwise (and stored); when every text is cached the embedder is not called
    at all (not even for its ``dim``, which loads a model).  ``on_batch(done)`` reports how many texts have a
    vector so far: once after the cache lookup, then after every batch."""
    keys = [cache_key(embedder.name, t) for t in texts]
    cached = cache.get_many(keys) if cache is not None and texts else {}
    dims = {len(v) for v in cached.values()}
    if len(dims) == 1 and len(cached) == len(set(keys)):
        dim = dims.pop()  # all cached: the model need not even be loaded
    else:
        dim = embedder.dim
        cached = {k: v for k, v in cached.items() if len(v) == dim}
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    missing: dict[bytes, list[int]] = {}
    for row, key in enumerate(keys):
        vec = cached.get(key)
        if vec is not None:
            vectors[row] = vec
        else:
            missing.setdefault(key, []).append(row)
    todo = list(missing.items())
    reused = len(texts) - sum(len(rows) for _, rows in todo)
    done = reused
    if on_batch is not None:
        on_batch(done)
    for i in range(0, len(todo), max(1, batch_size)):
        batch = todo[i : i + batch_size]
        encoded = embedder.encode([texts[rows[0]] for _, rows in batch])
        for (_, rows), vec in zip(batch, encoded, strict=True):
            vectors[rows] = vec
            done += len(rows)
        if cache is not None:
            cache.put_many((key, vec) for (key, _), vec in zip(batch, encoded, strict=True))
        if on_batch is not None:
            on_batch(done)
    if cache is not None and texts:
        cache.prune(keep_at_least=len(set(keys)))
    return Embedded(vectors, reused, len(todo))
