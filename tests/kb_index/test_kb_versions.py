"""Versioned index directories: build, CURRENT switch, pruning, loading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kb_index.embedder import HashEmbedder
from kb_index.sources import SourceLoadError
from kb_index.vector_index import IDMAP_FILE, IndexFormatError
from kb_index.versions import (
    CURRENT_FILE,
    build_index,
    current_version,
    load_current,
    load_version,
    prune_versions,
    set_current,
    version_names,
)


def test_build_writes_a_version_and_makes_it_current(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    index_dir = tmp_path / "index"
    assert current_version(index_dir) is None
    report = build_index(kb_dir, index_dir, embedder, progress=False)
    assert current_version(index_dir) == report.version
    assert report.article_count == 4 and report.chunk_count >= 8
    version_dir = index_dir / "versions" / report.version
    assert report.path == version_dir
    assert {p.name for p in version_dir.iterdir()} == {
        "manifest.json", "articles.json", "vectors.faiss", "idmap.json", "lexical.json", "bm25"
    }
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["version"] == report.version
    assert manifest["embedder"] == {"name": "hash-256", "dim": 256}
    assert manifest["article_count"] == 4
    assert manifest["chunk_count"] == report.chunk_count
    assert manifest["source_dir"] == str(kb_dir.resolve())
    assert manifest["errors"] == [] and manifest["created_at"]
    assert not [p for p in index_dir.iterdir() if p.name.endswith(".tmp")]
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".tmp")]

    loaded = load_version(index_dir, report.version)
    assert set(loaded.articles) == {"password-reset", "refunds", "shipping", "livraison"}
    assert loaded.articles["shipping"].questions == ("How much does shipping cost?",
                                                     "Is delivery free?")
    assert len(loaded.vectors) == report.chunk_count
    assert loaded.embedder_name == "hash-256"


def test_broken_files_are_recorded_in_the_manifest(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    (kb_dir / "broken.md").write_text("no front matter", "utf-8")
    report = build_index(kb_dir, tmp_path / "index", embedder, progress=False)
    assert report.article_count == 4
    assert [Path(e.path).name for e in report.errors] == ["broken.md"]
    manifest = load_current(tmp_path / "index").manifest  # type: ignore[union-attr]
    assert manifest["errors"][0]["path"].endswith("broken.md")


def test_strict_build_writes_nothing(kb_dir: Path, tmp_path: Path, embedder: HashEmbedder) -> None:
    (kb_dir / "broken.md").write_text("no front matter", "utf-8")
    with pytest.raises(SourceLoadError):
        build_index(kb_dir, tmp_path / "index", embedder, strict=True, progress=False)
    assert current_version(tmp_path / "index") is None
    assert version_names(tmp_path / "index") == []


def test_missing_source_dir_does_not_replace_a_good_index(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    good = build_index(kb_dir, tmp_path / "index", embedder, progress=False).version
    with pytest.raises(FileNotFoundError):
        build_index(tmp_path / "typo", tmp_path / "index", embedder, progress=False)
    assert current_version(tmp_path / "index") == good


def test_current_switches_and_old_versions_are_pruned(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    index_dir = tmp_path / "index"
    versions = [build_index(kb_dir, index_dir, embedder, progress=False, keep=2).version
                for _ in range(4)]
    assert len(set(versions)) == 4
    assert versions == sorted(versions)  # names sort in build order
    assert current_version(index_dir) == versions[-1]
    assert version_names(index_dir) == versions[-2:]


def test_prune_never_removes_the_current_version(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    index_dir = tmp_path / "index"
    versions = [build_index(kb_dir, index_dir, embedder, progress=False).version
                for _ in range(3)]
    set_current(index_dir, versions[0])  # roll back to the oldest
    assert prune_versions(index_dir, keep=1) == [versions[1]]
    assert version_names(index_dir) == [versions[0], versions[2]]
    assert (index_dir / CURRENT_FILE).read_text().strip() == versions[0]


def test_set_current_refuses_unknown_versions(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        set_current(tmp_path, "nope")


def test_set_current_is_an_atomic_replace(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    first = build_index(kb_dir, index_dir, embedder, progress=False).version
    calls: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        calls.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    set_current(index_dir, first)
    assert calls and calls[-1][1] == CURRENT_FILE and calls[-1][0] != CURRENT_FILE


def test_corrupt_version_raises_index_format_error(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    report = build_index(kb_dir, tmp_path / "index", embedder, progress=False)
    (report.path / IDMAP_FILE).write_text("{not json")
    with pytest.raises(IndexFormatError):
        load_version(tmp_path / "index", report.version)


def test_empty_kb_builds_an_empty_index(tmp_path: Path, embedder: HashEmbedder) -> None:
    (tmp_path / "kb").mkdir()
    report = build_index(tmp_path / "kb", tmp_path / "index", embedder, progress=False)
    assert report.article_count == 0 and report.chunk_count == 0
    assert len(load_version(tmp_path / "index", report.version).vectors) == 0


def test_progress_bar_does_not_break_the_build(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    report = build_index(kb_dir, tmp_path / "index", embedder, progress=True)
    assert report.chunk_count > 0
