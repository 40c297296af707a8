"""Every message of the shared email corpus (233 real and hostile messages) through the parser.

The corpus is ``../shared/datasets/email`` beside the repository (or
``$GUICHET_DATASETS/email``); its ``manifest.csv`` labels each file (general,
bounce_dsn, auto_reply, read_receipt_mdn, abuse_report_arf, not_bounce). Missing
corpus: skipped on a developer machine, a failure in CI.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from channels.email.parse import parse_message
from channels.email.parsed import MailClass, ParsedMail
from tests.support.datasets import dataset_dir
from tests.support.services import missing


def corpus_dir() -> Path:
    return dataset_dir() / "email"


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[str, ParsedMail]]:
    """file -> (manifest kind, parse result)."""
    root = corpus_dir()
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        missing(f"the email corpus ({root})")
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {row["file"]: (row["kind"], parse_message((root / row["file"]).read_bytes())) for row in rows}


def test_the_whole_corpus_is_there(corpus: dict[str, tuple[str, ParsedMail]]) -> None:
    assert len(corpus) == 233


def test_every_message_gets_a_class_and_a_reason(corpus: dict[str, tuple[str, ParsedMail]]) -> None:
    counts = Counter(mail.mail_class.value for _, mail in corpus.values())
    print("\nclasses over the email corpus:", dict(sorted(counts.items())))
    for name, (_, mail) in corpus.items():
        assert mail.mail_class in set(MailClass), name
        assert mail.class_reason.strip(), name
        assert mail.automatic_reply_allowed == (mail.mail_class is MailClass.CUSTOMER), name
    assert sum(counts.values()) == 233


def _of_kind(corpus: dict[str, tuple[str, ParsedMail]], kind: str) -> dict[str, ParsedMail]:
    found = {name: mail for name, (k, mail) in corpus.items() if k == kind}
    assert found, kind
    return found


def test_every_delivery_status_notification_is_a_bounce(corpus: dict[str, tuple[str, ParsedMail]]) -> None:
    bounces = _of_kind(corpus, "bounce_dsn")
    assert len(bounces) == 62
    wrong = {
        name: (m.mail_class.value, m.class_reason) for name, m in bounces.items() if m.mail_class != "bounce"
    }
    assert wrong == {}
    # Most name the recipient that failed and the message they report on (55 and 41 when written).
    with_recipient = sum(1 for m in bounces.values() if m.bounce and m.bounce.recipients)
    with_original = sum(1 for m in bounces.values() if m.bounce and m.bounce.original_message_id)
    print(
        f"\nbounces: {with_recipient}/62 with a recipient status, "
        f"{with_original}/62 with the original Message-ID"
    )
    assert with_recipient >= 55
    assert with_original >= 40  # many samples carry a truncated original without its Message-ID


def test_auto_replies_read_receipts_and_feedback_reports_get_no_reply(
    corpus: dict[str, tuple[str, ParsedMail]],
) -> None:
    for kind in ("auto_reply", "read_receipt_mdn", "abuse_report_arf"):
        for name, mail in _of_kind(corpus, kind).items():
            assert mail.mail_class is MailClass.AUTO_REPLY, (name, mail.class_reason)
            assert not mail.automatic_reply_allowed


def test_look_alikes_are_not_bounces(corpus: dict[str, tuple[str, ParsedMail]]) -> None:
    """sisimai's negative examples: two ordinary mails are customers; the third is a
    postmaster notice (not a DSN) and, being automated, gets no reply either way."""
    not_bounces = _of_kind(corpus, "not_bounce")
    assert not_bounces["sisimai_set_of_emails/not/is-not-bounce-01.eml"].mail_class is MailClass.CUSTOMER
    assert not_bounces["sisimai_set_of_emails/not/is-not-bounce-02.eml"].mail_class is MailClass.CUSTOMER
    assert not not_bounces["sisimai_set_of_emails/not/rb-issue-368-bug.eml"].automatic_reply_allowed


def test_no_ordinary_message_is_taken_for_a_bounce(corpus: dict[str, tuple[str, ParsedMail]]) -> None:
    """A false bounce would mark one of our sent messages failed and suppress an address."""
    wrong = [
        name for name, mail in _of_kind(corpus, "general").items() if mail.mail_class is MailClass.BOUNCE
    ]
    assert wrong == []


def test_same_bounce_with_lf_crlf_and_cr_line_endings_parses_the_same(
    corpus: dict[str, tuple[str, ParsedMail]],
) -> None:
    found = [corpus[f"sisimai_set_of_emails/{d}/lhost-postfix-01.eml"][1] for d in ("bsd", "dos", "mac")]
    assert {m.mail_class for m in found} == {MailClass.BOUNCE}
    assert len({m.bounce for m in found}) == 1
    assert len({m.message_id for m in found}) == 1
