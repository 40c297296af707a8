"""Plain-text articles, per-article language everywhere, and loading one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.sources import load_file, load_sources
from kb_index.text_source import normalise_lang, path_slug


def test_plain_text_first_line_is_the_title(tmp_path: Path) -> None:
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing" / "Délais de paiement.txt").write_text(
        "\ufeff# Délais de paiement\n\nVos factures sont payables sous 30 jours.\n"
        "Après cette date, une relance part automatiquement.\n", "utf-8")
    (article,) = load_sources(tmp_path).articles
    assert article.id == "billing-delais-de-paiement"
    assert article.title == "Délais de paiement"
    assert article.body.startswith("Vos factures sont payables")
    assert article.lang == "fr"  # detected: a .txt file declares nothing


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty file"),
        ("Only a title\n\n", "only a title"),
        ("x" * 300 + "\nbody", "at most 200"),
    ],
)
def test_broken_text_files_are_reported(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "note.txt").write_text(text, "utf-8")
    result = load_sources(tmp_path)
    assert result.articles == ()
    (error,) = result.errors
    assert error.path.endswith("note.txt") and reason in error.reason


def test_invalid_utf8_text_is_reported_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Titre\nÉté".encode("latin-1"))
    (error,) = load_sources(tmp_path).errors
    assert error.path.endswith("latin.txt") and "not valid UTF-8" in error.reason


def test_every_article_gets_a_language(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text('+++\nid = "a"\ntitle = "Changer mon adresse"\n+++\n'
                                   "Vous pouvez modifier votre adresse dans votre compte.\n", "utf-8")
    (tmp_path / "b.md").write_text("---\nid: b\ntitle: Cancel\nlang: en-GB\n---\nCancel any time.\n",
                                   "utf-8")
    (tmp_path / "faq.csv").write_text("id,question,answer\nc,How do I pay?,With a card or a transfer.\n",
                                      "utf-8")
    langs = {a.id: a.lang for a in load_sources(tmp_path).articles}
    assert langs == {"a": "fr", "b": "en", "c": "en"}


def test_duplicate_ids_across_formats_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text('+++\nid = "shipping"\ntitle = "Shipping"\n+++\nFree.\n', "utf-8")
    (tmp_path / "shipping.txt").write_text("Shipping\nFree above 50 euros.\n", "utf-8")
    result = load_sources(tmp_path)
    assert [a.source for a in result.articles] == [str(tmp_path / "a.md")]
    assert "duplicate id 'shipping'" in result.errors[0].reason


def test_load_file_checks_one_file(tmp_path: Path) -> None:
    good = tmp_path / "hours.txt"
    good.write_text("Opening hours\nWe answer from 9 to 18.\n", "utf-8")
    assert [a.id for a in load_file(good).articles] == ["hours"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q?"\n', "utf-8")
    result = load_file(bad)
    assert result.articles == () and "invalid JSON" in result.errors[0].reason
    other = tmp_path / "slides.pdf"
    other.write_bytes(b"%PDF")
    assert "unsupported file type" in load_file(other).errors[0].reason


def test_slugs_and_language_tags() -> None:
    assert path_slug(Path("Aide/Mot de passe oublié.html")) == "aide-mot-de-passe-oublie"
    assert path_slug("__.txt") == ""
    assert [normalise_lang(v) for v in ("fr-FR", "EN_us", "", "english", "de")] == ["fr", "en", "", "", "de"]
