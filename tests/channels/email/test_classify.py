"""Every inbound mail gets a class and a reason; only customers may get an automatic reply."""

from __future__ import annotations

import pytest

from channels.email.parse import parse_message
from channels.email.parsed import MailClass
from tests.channels.email.mail_samples import message, multipart

OWN = ("support@guichet.test",)


def test_an_ordinary_mail_is_a_customer_mail_that_may_be_answered() -> None:
    mail = parse_message(message(), own_addresses=OWN)
    assert mail.mail_class is MailClass.CUSTOMER
    assert mail.automatic_reply_allowed
    assert mail.class_reason


@pytest.mark.parametrize(
    ("header", "value", "klass"),
    [
        ("Auto-Submitted", "auto-replied", MailClass.AUTO_REPLY),
        ("Auto-Submitted", "auto-generated", MailClass.AUTO_REPLY),
        ("Auto-Submitted", "auto-notified; owner-email=x@y.z", MailClass.AUTO_REPLY),
        ("X-Autoreply", "yes", MailClass.AUTO_REPLY),
        ("X-Autorespond", "Out of office", MailClass.AUTO_REPLY),
        ("X-Auto-Response-Suppress", "All", MailClass.AUTO_REPLY),
        ("Precedence", "bulk", MailClass.LIST),
        ("Precedence", "junk", MailClass.LIST),
        ("Precedence", "list", MailClass.LIST),
        ("List-Id", "<news.example.org>", MailClass.LIST),
        ("List-Unsubscribe", "<mailto:leave@example.org>", MailClass.LIST),
        ("Return-Path", "<>", MailClass.AUTO_REPLY),
        ("X-Loop", "helpdesk@example.org", MailClass.AUTO_REPLY),
    ],
)
def test_loop_headers_forbid_an_automatic_reply(header: str, value: str, klass: MailClass) -> None:
    mail = parse_message(message(headers={header: value}), own_addresses=OWN)
    assert mail.mail_class is klass
    assert not mail.automatic_reply_allowed
    assert header in mail.class_reason or value.strip("<>") in mail.class_reason


def test_auto_submitted_no_is_a_person() -> None:
    mail = parse_message(message(headers={"Auto-Submitted": "no"}))
    assert mail.mail_class is MailClass.CUSTOMER
    assert mail.auto_submitted == "no"


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example.org", "postmaster@example.org", "no-reply@shop.example",
     "noreply@shop.example", "ne-pas-repondre@banque.example", "donotreply@x.example"],
)  # fmt: skip
def test_machine_senders_get_no_automatic_reply(sender: str) -> None:
    mail = parse_message(message(sender=sender, subject="Your invoice"))
    assert mail.mail_class is MailClass.AUTO_REPLY
    assert not mail.automatic_reply_allowed
    assert sender in mail.class_reason


def test_mail_from_our_own_address_is_a_loop() -> None:
    mail = parse_message(message(sender="Support <Support+abc@GUICHET.test>"), own_addresses=OWN)
    assert mail.mail_class is MailClass.AUTO_REPLY
    assert "own address" in mail.class_reason


@pytest.mark.parametrize(
    "subject", ["Automatic reply: Order", "Réponse automatique : votre demande", "Out of Office: back Monday"]
)
def test_out_of_office_subjects_are_auto_replies(subject: str) -> None:
    assert parse_message(message(subject=subject)).mail_class is MailClass.AUTO_REPLY


def test_read_receipt_mdn_is_an_auto_reply() -> None:
    raw = multipart(
        [
            "Content-Type: text/plain\n\nYour message was displayed.",
            "Content-Type: message/disposition-notification\n\n"
            "Final-Recipient: rfc822; alice@example.org\n"
            "Disposition: manual-action/MDN-sent-manually; displayed",
        ],
        subtype='report; report-type="disposition-notification"',
    )
    mail = parse_message(raw)
    assert mail.mail_class is MailClass.AUTO_REPLY
    assert "MDN" in mail.class_reason


def _dsn(status: str, action: str) -> bytes:
    return multipart(
        [
            "Content-Type: text/plain\n\nThis is the mail system at host mx.example.org.",
            "Content-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.example.org\n\n"
            f"Final-Recipient: rfc822; bob@example.net\nAction: {action}\nStatus: {status}\n"
            f"Diagnostic-Code: smtp; 550 {status} <bob@example.net>: Recipient address rejected",
            "Content-Type: text/rfc822-headers\n\n"
            "From: support@guichet.test\nTo: bob@example.net\n"
            "Message-ID: <out-42.rnd@guichet.test>\nSubject: Re: x",
        ],
        subtype='report; report-type="delivery-status"',
        headers="Return-Path: <>\r\n",
    )


def test_dsn_permanent_failure_names_the_original_message_and_the_recipient() -> None:
    mail = parse_message(_dsn("5.1.1", "failed"))
    assert mail.mail_class is MailClass.BOUNCE
    assert not mail.automatic_reply_allowed
    assert mail.bounce is not None
    assert mail.bounce.kind == "dsn"
    assert mail.bounce.original_message_id == "out-42.rnd@guichet.test"
    assert mail.bounce.permanent and not mail.bounce.temporary
    (rcpt,) = mail.bounce.recipients
    assert (rcpt.recipient, rcpt.status, rcpt.action) == ("bob@example.net", "5.1.1", "failed")
    assert "5.1.1" in mail.class_reason and "permanent" in mail.class_reason
    assert mail.bounce.reporting_mta == "mx.example.org"


def test_dsn_delay_is_temporary() -> None:
    mail = parse_message(_dsn("4.4.7", "delayed"))
    assert mail.mail_class is MailClass.BOUNCE
    assert mail.bounce is not None
    assert mail.bounce.temporary and not mail.bounce.permanent
    assert "delayed 4.4.7" in mail.class_reason


def test_legacy_plain_text_bounce_is_found_with_its_recipient_and_original_id() -> None:
    body = (
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<bob@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "From: support@guichet.test\nMessage-ID: <out-7.rnd@guichet.test>\nSubject: Re: x\n\nhello"
    )
    mail = parse_message(message(body, sender="MAILER-DAEMON@mx.example.net", subject="failure notice"))
    assert mail.mail_class is MailClass.BOUNCE
    assert mail.bounce is not None and mail.bounce.kind == "legacy"
    assert mail.bounce.original_message_id == "out-7.rnd@guichet.test"
    assert [(r.recipient, r.status) for r in mail.bounce.recipients] == [("bob@example.net", "5.1.1")]


def test_arf_feedback_report_is_not_a_customer() -> None:
    raw = multipart(
        [
            "Content-Type: text/plain\n\nThis is an abuse report.",
            "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1",
        ],
        subtype='report; report-type="feedback-report"',
    )
    assert parse_message(raw).mail_class is MailClass.AUTO_REPLY


def test_spam_verdict_of_an_upstream_filter() -> None:
    mail = parse_message(message(headers={"X-Spam-Flag": "YES"}))
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED


def test_no_sender_at_all_is_malformed() -> None:
    mail = parse_message(message(headers={"From": None}))
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED
    assert "sender" in mail.class_reason
