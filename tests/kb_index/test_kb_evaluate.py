"""Cases files (:func:`load_cases`) and the throw-away index they are measured on."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.embedder import HashEmbedder
from kb_index.evaluate import CaseFileError, check_expected, load_cases, temporary_index
from kb_index.versions import build_index, current_version


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ("[1]", "line 2: expected a JSON object"),
        ('{"text": "q", "expected": null}', "line 2: 'id' must be"),
        ('{"id": "a", "text": "q", "expected": null}', "line 2: duplicate id 'a'"),
        ('{"id": "b", "text": "", "expected": null}', "line 2: 'text' must be"),
        ('{"id": "b", "text": "q"}', "line 2: 'expected' is missing"),
        ('{"id": "b", "text": "q", "expected": 3}', "line 2: 'expected' must be"),
        ('{"id": "b", "text": "q", "expected": null, "kind": 1}', "line 2: 'kind' must be"),
    ],
)
def test_bad_case_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "text": "q", "expected": null}\n' + line + "\n", "utf-8")
    with pytest.raises(CaseFileError, match=message):
        load_cases(path)


def test_blank_lines_and_numeric_ids(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('\n{"id": 7, "text": "q", "expected": "a"}\n\n', "utf-8")
    (case,) = load_cases(path)
    assert (case.id, case.expected, case.kind, case.line) == ("7", "a", "", 2)


def test_an_expected_article_missing_from_the_kb_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "text": "q", "expected": "there"}\n'
                    '{"id": "b", "text": "q", "expected": "nope"}\n', "utf-8")
    cases = load_cases(path)
    check_expected(cases[:1], {"there"}, path)
    with pytest.raises(CaseFileError, match="line 2: expected article 'nope' is not in"):
        check_expected(cases, {"there"}, path)


async def test_the_temporary_index_leaves_the_live_one_alone(
    kb_dir: Path, tmp_path: Path, embedder: HashEmbedder
) -> None:
    live = tmp_path / "index"
    version = build_index(kb_dir, live, embedder, progress=False).version
    async with temporary_index(kb_dir, embedder) as (retriever, build):
        assert build.article_count == 4
        top = (await retriever.search("Is delivery free?", k=1)).top
        assert top is not None and top.article_id == "shipping"
        used = retriever.index_dir
    assert not Path(used).exists()
    assert current_version(live) == version
    assert len(list((live / "versions").iterdir())) == 1
