"""KB gaps: question records and their outcome, clustering ranked by volume,
containment of a topic before and after an approved article."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.kb.containment import QuestionRecord, records_from_messages
from gateway.kb.gaps import ApprovedTopic, cluster, gaps_report
from gateway.kb.vectors import TfidfVectorizer

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Row:
    id: int
    conversation_id: int
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = T0


def test_outcomes_of_questions() -> None:
    rows = [
        Row(1, 1, "reset password", {"action": "answer", "reason": "confident", "article_id": "pw"}),
        Row(2, 1, "no it didn't help", {"action": "handoff", "reason": "not_helped"}),
        Row(3, 2, "billing?", {"action": "clarify", "reason": "vague"}),
        Row(4, 2, "Invoices", {"action": "answer", "reason": "clarified", "article_id": "invoices"}),
        Row(5, 3, "refund my plan", {"action": "handoff", "reason": "low_confidence"}),
        Row(6, 4, "shipping costs", {"action": "answer", "reason": "confident"}),
        Row(7, 4, "merci", {"action": "smalltalk", "reason": "thanks"}),
        Row(8, 5, "agent please", {"action": "handoff", "reason": "explicit_request"}),
    ]
    records = {r.question: r for r in records_from_messages(rows)}  # type: ignore[arg-type]
    assert set(records) == {"reset password", "billing?", "refund my plan", "shipping costs"}
    assert not records["reset password"].contained and records["reset password"].outcome == "not_helped"
    assert records["billing?"].contained and records["billing?"].article_id == "invoices"
    assert not records["refund my plan"].contained
    assert records["shipping costs"].contained


def record(i: int, text: str, lang: str = "en", *, contained: bool = False, at: datetime = T0,
           article: str | None = None) -> QuestionRecord:
    return QuestionRecord(i, i, text, at, "answer" if contained else "handoff",
                          "confident" if contained else "low_confidence", lang, article, contained)


REFUND = ["How do I get a refund?", "refund for my order please", "I want my money back, refund",
          "Comment obtenir un remboursement ?", "remboursement de ma commande", "refund request status"]
INVOICE = ["Where is my invoice?", "I need an invoice copy", "invoice for March missing"]


def test_clusters_are_ranked_by_volume_with_languages_and_examples() -> None:
    records = [record(i, t, "fr" if "rembours" in t else "en") for i, t in enumerate(REFUND)]
    records += [record(10 + i, t) for i, t in enumerate(INVOICE)]
    records += [record(20, "Can I change the colour of the app?")]
    records += [record(30, "How do I reset my password?", contained=True)]
    report = gaps_report(records, TfidfVectorizer(), T0 - timedelta(days=30), T0)
    assert (report.questions, report.contained, report.gaps) == (11, 1, 10)
    counts = [c.count for c in report.clusters]
    assert counts == sorted(counts, reverse=True)
    top = report.clusters[0]  # TF-IDF keeps languages apart; a multilingual embedder joins them
    assert top.count == 4 and "refund" in top.representative.lower()
    assert top.languages == {"en": 4} and len(top.examples) == 3
    french = next(c for c in report.clusters if "rembours" in c.representative)
    assert french.count == 2 and french.languages == {"fr": 2}
    invoice = next(c for c in report.clusters if "invoice" in c.representative.lower())
    assert invoice.count == 3 and len(invoice.examples) == 2
    assert report.clusters[-1].count == 1


def test_containment_before_and_after_an_approved_article() -> None:
    approved = T0 + timedelta(days=10)
    records = [record(i, t, at=T0) for i, t in enumerate(INVOICE)]  # before: all handed off
    records += [record(10, "Where can I find my invoice?", at=approved + timedelta(hours=1), contained=True,
                       article="invoice-copy-d1"),
                record(11, "invoice copy", at=approved + timedelta(hours=2), contained=True,
                       article="invoice-copy-d1"),
                record(12, "invoice missing for March", at=approved + timedelta(hours=3))]
    topic = ApprovedTopic(1, "Invoice copy", ("Where is my invoice?", "I need an invoice copy"),
                          "invoice-copy-d1", approved)
    report = gaps_report(records, TfidfVectorizer(), T0, approved + timedelta(days=1), [topic])
    [invoice] = [c for c in report.clusters if c.draft_id == 1]
    c = invoice.containment
    assert (c.before_contained, c.before_total) == (0, 3)
    assert (c.after_contained, c.after_total) == (2, 3)
    assert c.before == 0.0 and c.after is not None and abs(c.after - 2 / 3) < 1e-9


def test_cluster_keeps_unrelated_questions_apart() -> None:
    vectors = TfidfVectorizer().vectors(["refund please", "refund now please", "password reset", "colour"])
    groups = cluster(vectors, 0.3)
    assert groups[0] == [0, 1] and sorted(len(g) for g in groups) == [1, 1, 2]


def test_cli_prints_the_report(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    import json

    from gateway.cli import main

    monkeypatch.setenv("GUICHET_SERVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GUICHET_KB_EMBEDDER", "hash")
    assert main(["kb", "gaps", "--days", "7", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["questions"], report["clusters"], report["vectorizer"]) == (0, [], "tfidf")
    assert main(["kb", "gaps"]) == 0
    assert "KB gaps, biggest first" in capsys.readouterr().out
    assert main(["kb", "gaps", "--days", "0"]) == 2
