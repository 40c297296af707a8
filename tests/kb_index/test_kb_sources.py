"""Loading KB sources: both front matters, FAQ tables, every kind of broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.sources import LoadResult, SourceLoadError, load_sources, parse_markdown


def _reasons(result: LoadResult, name: str) -> list[str]:
    return [e.reason for e in result.errors if Path(e.path).name == name]


def test_loads_all_four_formats(kb_dir: Path) -> None:
    result = load_sources(kb_dir)
    assert result.errors == ()
    by_id = {a.id: a for a in result.articles}
    assert set(by_id) == {"password-reset", "refunds", "shipping", "livraison"}

    reset = by_id["password-reset"]  # TOML front matter, in a subdirectory
    assert reset.title == "Reset your password"
    assert reset.lang == "en"
    assert reset.tags == ("account", "login")
    assert reset.body.startswith("Click **Forgot password**")
    assert reset.source == str(kb_dir / "account" / "reset.md")

    refunds = by_id["refunds"]  # YAML front matter
    assert refunds.title == "Refunds for yearly plans"
    assert refunds.tags == ("billing", "refund")


def test_faq_rows_with_same_id_are_question_variants(kb_dir: Path) -> None:
    by_id = {a.id: a for a in load_sources(kb_dir).articles}
    shipping = by_id["shipping"]
    assert shipping.questions == ("How much does shipping cost?", "Is delivery free?")
    assert shipping.body.startswith("Shipping costs 5 euros")
    assert shipping.title == "Shipping costs"
    assert shipping.tags == ("shop", "shipping")  # ';'-separated in CSV

    livraison = by_id["livraison"]
    assert livraison.questions == ("Comment suivre mon colis ?", "Où est ma commande ?")
    assert livraison.title == "Comment suivre mon colis ?"  # no title: first question
    assert livraison.lang == "fr"


def test_answer_comes_from_first_non_empty_row(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_text(
        "id,question,answer\nx,First?,\nx,Second?,The answer.\nx,Third?,Another answer.\n"
    )
    (article,) = load_sources(tmp_path).articles
    assert article.body == "The answer."
    assert article.questions == ("First?", "Second?", "Third?")


def test_front_matter_questions_and_string_tags() -> None:
    text = '---\nid: 42\ntitle: T\ntags: "a, b"\nquestions:\n  - Q one?\n  - Q two?\n---\nBody.\n'
    article = parse_markdown(text, "x.md")
    assert article.id == "42"
    assert article.tags == ("a", "b")
    assert article.questions == ("Q one?", "Q two?")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Just text, no front matter.\n", "no front matter"),
        ("+++\nid = 'a'\ntitle = 'A'\nBody\n", "not closed"),
        ("+++\nid = 'a\ntitle = 'A'\n+++\nBody\n", "bad TOML front matter"),
        ("---\nid: [a\ntitle: A\n---\nBody\n", "bad YAML front matter"),
        ("---\n- a\n- b\n---\nBody\n", "must be a table"),
        ("---\ntitle: A\n---\nBody\n", "missing required field 'id'"),
        ("+++\nid = 'a'\n+++\nBody\n", "missing required field 'title'"),
        ("---\nid: a\ntitle: A\n---\n\n", "empty body"),
        ("---\nid: a\ntitle: {x: 1}\n---\nBody\n", "field 'title' must be text"),
    ],
)
def test_broken_markdown_is_reported_and_the_rest_loads(
    kb_dir: Path, content: str, reason: str
) -> None:
    (kb_dir / "broken.md").write_text(content, "utf-8")
    result = load_sources(kb_dir)
    assert len(result.articles) == 4
    (error,) = result.errors
    assert error.path == str(kb_dir / "broken.md")
    assert reason in error.reason


def test_duplicate_id_across_files(kb_dir: Path) -> None:
    (kb_dir / "zz-copy.md").write_text("---\nid: refunds\ntitle: Again\n---\nBody\n", "utf-8")
    result = load_sources(kb_dir)
    assert len(result.articles) == 4
    (error,) = result.errors
    assert error.path.endswith("zz-copy.md")
    assert "duplicate id 'refunds'" in error.reason
    assert "refunds.md" in error.reason  # says where the first one is


def test_undecodable_file(kb_dir: Path) -> None:
    (kb_dir / "latin1.md").write_bytes("---\nid: a\ntitle: Été\n---\nCafé\n".encode("latin-1"))
    result = load_sources(kb_dir)
    assert "not valid UTF-8" in _reasons(result, "latin1.md")[0]
    assert len(result.articles) == 4


def test_bad_csv_header(kb_dir: Path) -> None:
    (kb_dir / "bad.csv").write_text("id,question,reply\na,Q?,A.\n", "utf-8")
    result = load_sources(kb_dir)
    (reason,) = _reasons(result, "bad.csv")
    assert "bad CSV header" in reason and "answer" in reason
    assert len(result.articles) == 4


def test_bad_json_line_is_reported_with_its_number_and_other_lines_load(kb_dir: Path) -> None:
    (kb_dir / "more.jsonl").write_text(
        '{"id": "ok", "question": "Q?", "answer": "A."}\n'
        '{"id": "broken", "question": \n'
        "[1, 2]\n"
        '{"id": "x"}\n'
        '{"question": "no id?", "answer": "A."}\n'
        '{"id": "noanswer", "question": "Q?"}\n',
        "utf-8",
    )
    result = load_sources(kb_dir)
    reasons = _reasons(result, "more.jsonl")
    assert any(r.startswith("line 2: invalid JSON") for r in reasons)
    assert "line 3: expected a JSON object" in reasons
    assert "line 4: needs a 'question' or an 'answer'" in reasons
    assert "line 5: empty id" in reasons
    assert "entry 'noanswer': no row has an answer" in reasons
    assert "ok" in {a.id for a in result.articles}


def test_unknown_extensions_and_hidden_files_are_skipped_not_errors(kb_dir: Path) -> None:
    (kb_dir / "notes.docx").write_text("hello", "utf-8")
    (kb_dir / ".draft.md").write_text("not even front matter", "utf-8")
    result = load_sources(kb_dir)
    assert result.errors == ()
    assert {Path(p).name for p in result.skipped} == {"notes.docx", ".draft.md"}


def test_strict_mode_raises_with_every_error(kb_dir: Path) -> None:
    (kb_dir / "a.md").write_text("no front matter", "utf-8")
    (kb_dir / "b.csv").write_text("question,answer\n", "utf-8")
    with pytest.raises(SourceLoadError) as info:
        load_sources(kb_dir, strict=True)
    assert {Path(e.path).name for e in info.value.errors} == {"a.md", "b.csv"}
    assert "a.md" in str(info.value) and "b.csv" in str(info.value)


def test_missing_directory(tmp_path: Path) -> None:
    result = load_sources(tmp_path / "nope")
    assert result.articles == ()
    assert "not found" in result.errors[0].reason
    with pytest.raises(SourceLoadError):
        load_sources(tmp_path / "nope", strict=True)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_bytes("\ufeffid,question,answer\na,Q?,A.\n".encode())
    assert [a.id for a in load_sources(tmp_path).articles] == ["a"]
