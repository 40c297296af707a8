"""The content-hash embedding cache: reuse, isolation between models, pruning, damage."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from kb_index.embed_cache import EmbeddingCache, cache_key, embed_texts
from kb_index.embedder import HashEmbedder


class SpyEmbedder(HashEmbedder):
    """The hash embedder, counting what it is asked to encode."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode(texts)


def test_second_pass_encodes_only_new_texts(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    spy = SpyEmbedder()
    first = embed_texts(spy, ["alpha", "beta", "alpha"], cache)
    assert spy.encoded == ["alpha", "beta"]  # a repeated text is encoded once
    assert (first.reused, first.embedded) == (0, 2)
    spy.encoded.clear()
    second = embed_texts(spy, ["beta", "gamma", "alpha"], cache)
    assert spy.encoded == ["gamma"]
    assert (second.reused, second.embedded) == (2, 1)
    np.testing.assert_array_equal(second.vectors, spy.encode(["beta", "gamma", "alpha"]))


def test_progress_counts_cached_texts_first(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    embed_texts(SpyEmbedder(), ["a", "b"], cache)
    seen: list[int] = []
    embed_texts(SpyEmbedder(), ["a", "b", "c", "d", "e"], cache, batch_size=2, on_batch=seen.append)
    assert seen == [2, 4, 5]


def test_models_never_share_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    embed_texts(SpyEmbedder(64), ["alpha"], cache)
    other = SpyEmbedder(32)  # another name ("hash-32") and dimension
    result = embed_texts(other, ["alpha"], cache)
    assert other.encoded == ["alpha"] and result.reused == 0
    assert cache_key("hash-64", "alpha") != cache_key("hash-32", "alpha")


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite", max_entries=3)
    spy = SpyEmbedder()
    embed_texts(spy, ["old-1", "old-2"], cache)
    embed_texts(spy, ["new-1", "new-2"], cache)  # 4 entries > 3: the oldest goes
    assert len(cache) == 3
    spy.encoded.clear()
    embed_texts(spy, ["new-1", "new-2"], cache)
    assert spy.encoded == []
    big = embed_texts(spy, [f"t{i}" for i in range(5)], cache)  # one build larger than the bound
    assert big.embedded == 5 and len(cache) == 5  # its own vectors are all kept


def test_a_corrupt_cache_file_only_costs_time(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    spy = SpyEmbedder()
    result = embed_texts(spy, ["alpha", "beta"], EmbeddingCache(path))
    assert spy.encoded == ["alpha", "beta"] and result.vectors.shape == (2, 64)
    assert (tmp_path / "c.sqlite.corrupt").exists()  # set aside; a fresh cache took its place
    assert embed_texts(spy, ["alpha", "beta"], EmbeddingCache(path)).reused == 2


def test_readers_and_a_writer_at_the_same_time(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    spy = SpyEmbedder()
    embed_texts(spy, [f"seed {i}" for i in range(50)], cache)
    keys = [cache_key(spy.name, f"seed {i}") for i in range(50)]
    problems: list[str] = []

    def read() -> None:
        for _ in range(20):
            found = cache.get_many(keys, spy.dim)
            if len(found) != 50:
                problems.append(f"reader saw {len(found)} of 50")

    def write() -> None:
        for n in range(20):
            embed_texts(spy, [f"new {n} {i}" for i in range(10)], cache)

    threads = [threading.Thread(target=read) for _ in range(3)] + [threading.Thread(target=write)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert problems == []
    assert len(cache) == 250


def test_a_fully_cached_pass_never_touches_the_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    embed_texts(SpyEmbedder(), ["alpha", "beta"], cache)

    class Unloadable(SpyEmbedder):
        @property
        def dim(self) -> int:
            raise AssertionError("the model was loaded")

    result = embed_texts(Unloadable(), ["beta", "alpha", "beta"], cache)
    assert result.vectors.shape == (3, 64) and result.reused == 3
