"""The evaluation knowledge bases under ``examples/eval/`` are well formed.

Each ``examples/eval/<name>/`` holds ``kb/`` (prose articles) and ``cases.jsonl``, read by
``guichet kb eval --kb DIR/kb --cases DIR/cases.jsonl``.  These tests only read the files
(with the same loaders ``guichet kb eval`` uses); they build no index and run no model, so
they cannot be used to fit anything on the sets.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from kb_index.evaluate import Case, check_expected, load_cases
from kb_index.sources import Article, load_sources

EVAL_ROOT = Path(__file__).resolve().parents[3] / "examples" / "eval"
SETS = sorted(p.name for p in EVAL_ROOT.glob("*") if (p / "cases.jsonl").is_file())

# Kinds whose cases expect an article, and kinds whose cases must get none.
ANSWERABLE = {"paraphrase", "typo", "xlang"}
NO_ARTICLE = {"oos", "human", "angry", "chitchat"}

# Unambiguous function words, to tell a French question from an English one for the
# cross-language check below (kept here, independent of the product's own detector).
_FR_WORDS = frozenset(
    {
        "je", "j", "est", "les", "la", "le", "mon", "ma", "mes", "pour", "une", "des", "comment",
        "quel", "quelle", "quels", "où", "ça", "c", "vous", "on", "du", "au", "aux", "il", "elle",
        "qu", "que", "qui", "faire", "peut", "puis", "ai", "dans", "avec", "sur", "pas", "plus",
    }
)
_EN_WORDS = frozenset(
    {
        "the", "i", "my", "is", "how", "do", "can", "to", "what", "for", "of", "where", "are",
        "you", "does", "it", "in", "with", "from", "this", "that", "there", "get", "any", "our",
        "we", "why", "when", "much",
    }
)


def _lang_of(text: str) -> str | None:
    words = re.findall(r"[a-zà-ÿœ]+", text.lower().replace("’", "'").replace("'", " "))
    fr = sum(w in _FR_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    if fr == en:
        return None
    return "fr" if fr > en else "en"


def _articles(name: str) -> dict[str, Article]:
    loaded = load_sources(EVAL_ROOT / name / "kb", strict=True)
    return {a.id: a for a in loaded.articles}


def _cases(name: str) -> list[Case]:
    return load_cases(EVAL_ROOT / name / "cases.jsonl")


def test_there_are_several_eval_sets() -> None:
    assert len(SETS) >= 4, SETS


@pytest.mark.parametrize("name", SETS)
def test_kb_is_prose_in_french_and_english(name: str) -> None:
    articles = _articles(name)
    assert len(articles) >= 25
    langs = Counter(a.lang for a in articles.values())
    assert set(langs) == {"fr", "en"}, langs
    for article in articles.values():
        assert not article.questions, f"{article.id}: eval KBs are prose only, no question variants"
        assert len(article.body.split()) >= 40, f"{article.id}: body too short to be a help page"


@pytest.mark.parametrize("name", SETS)
def test_every_case_references_an_existing_article(name: str) -> None:
    cases = _cases(name)
    check_expected(cases, set(_articles(name)), EVAL_ROOT / name / "cases.jsonl")


@pytest.mark.parametrize("name", SETS)
def test_kinds_are_valid_and_agree_with_expected(name: str) -> None:
    cases = _cases(name)
    assert len(cases) >= 150
    for case in cases:
        assert case.kind in ANSWERABLE | NO_ARTICLE, f"{case.id}: unknown kind {case.kind!r}"
        if case.kind in ANSWERABLE:
            assert case.expected is not None, f"{case.id}: kind {case.kind} needs an article"
        else:
            assert case.expected is None, f"{case.id}: kind {case.kind} must expect no article"
    kinds = Counter(c.kind for c in cases)
    assert set(kinds) == ANSWERABLE | NO_ARTICLE, kinds


@pytest.mark.parametrize("name", SETS)
def test_no_case_text_is_repeated(name: str) -> None:
    texts = Counter(c.text.strip().lower() for c in _cases(name))
    assert [t for t, n in texts.items() if n > 1] == []


def test_case_ids_are_unique_across_sets() -> None:
    ids = Counter(c.id for name in SETS for c in _cases(name))
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("name", SETS)
def test_cross_language_cases_cross_languages(name: str) -> None:
    """An ``xlang`` case asks in one language about an article written in the other."""
    articles = _articles(name)
    for case in _cases(name):
        if case.kind != "xlang":
            continue
        assert case.expected is not None
        asked = _lang_of(case.text)
        assert asked is not None, f"{case.id}: cannot tell the language of {case.text!r}"
        assert asked != articles[case.expected].lang, (
            f"{case.id}: {asked} question about a {articles[case.expected].lang} article"
        )


@pytest.mark.parametrize("name", SETS)
def test_paraphrases_ask_in_the_article_language(name: str) -> None:
    """A question in the other language than its article is an ``xlang`` case, not a paraphrase."""
    articles = _articles(name)
    for case in _cases(name):
        if case.kind == "paraphrase" and case.expected is not None:
            asked = _lang_of(case.text)
            assert asked in (None, articles[case.expected].lang), f"{case.id}: {case.text!r}"


def test_the_checks_catch_a_broken_case(tmp_path: Path) -> None:
    """The schema checks above fail on a case naming a missing article."""
    from kb_index.evaluate import CaseFileError

    bad = tmp_path / "cases.jsonl"
    bad.write_text('{"id": "x", "text": "hello", "expected": "no-such-article", "kind": "paraphrase"}\n')
    with pytest.raises(CaseFileError, match="no-such-article"):
        check_expected(load_cases(bad), set(_articles(SETS[0])), bad)
