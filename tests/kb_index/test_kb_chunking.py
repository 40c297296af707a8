"""Chunking: passages along paragraphs, title first, questions and title as chunks."""

from __future__ import annotations

from kb_index.chunking import MAX_WORDS, chunk_article, plain_text, split_passages
from kb_index.sources import Article


def _para(word: str, n: int) -> str:
    return " ".join([word] * (n - 1)) + " end."


def test_short_body_is_one_passage() -> None:
    assert split_passages("One short answer.\n\nAnd a second paragraph.") == [
        "One short answer. And a second paragraph."
    ]


def test_paragraphs_are_kept_whole_and_grouped_up_to_the_limit() -> None:
    body = "\n\n".join(_para(w, 25) for w in ("alpha", "beta", "gamma", "delta"))
    passages = split_passages(body)
    assert len(passages) == 2
    assert passages[0].startswith("alpha") and "beta" in passages[0]
    assert passages[1].startswith("gamma") and passages[1].endswith("end.")
    assert all(len(p.split()) <= MAX_WORDS for p in passages)


def test_long_paragraph_is_cut_between_sentences_and_long_sentence_between_words() -> None:
    sentences = " ".join(f"Sentence {i} has exactly six words." for i in range(30))
    passages = split_passages(sentences)
    assert len(passages) > 1
    assert all(p.endswith(".") for p in passages)  # cut at sentence ends
    giant = " ".join(["word"] * (3 * MAX_WORDS))
    assert [len(p.split()) for p in split_passages(giant)] == [MAX_WORDS] * 3


def test_short_tail_is_merged_into_previous_passage() -> None:
    body = _para("alpha", 30) + "\n\n" + _para("beta", 5)
    assert len(split_passages(body, target_words=30, max_words=40, min_tail_words=10)) == 1


def test_markdown_markup_is_removed() -> None:
    text = "# Title\n\nSee **the** [guide](https://x.example) with `api_key`.\n- one\n1. two\n"
    text += "| a | b |\n|---|---|\n"
    assert plain_text(text) == "Title\n\nSee the guide with api_key.\none\ntwo\na b"


def test_chunk_article_title_questions_and_titled_passages() -> None:
    body = "\n\n".join(_para(w, 40) for w in ("alpha", "beta"))
    article = Article(
        id="a1", title="My title", body=body, questions=("Q1?", "q1?", "My title")
    )
    chunks = chunk_article(article)
    assert [c.kind for c in chunks] == ["title", "question", "passage", "passage"]
    assert {c.article_id for c in chunks} == {"a1"}
    assert chunks[1].text == "Q1?"  # case-insensitive duplicates and the title dropped
    assert all(c.text.startswith("My title\n") for c in chunks if c.kind == "passage")
