"""parse_message: threading headers, tokens, attachments and limits, caps, never an exception."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email.parse import parse_message
from channels.email.parsed import MailClass, ParseLimits
from tests.channels.email.mail_samples import message, multipart

OWN = ("support@guichet.test",)


def test_threading_headers_are_normalised() -> None:
    raw = message(
        headers={
            "Message-ID": "  <abc.123@Mail.Example.org>  ",
            "In-Reply-To": "<out-1.rnd@guichet.test> (comment)",
            "References": "<a@x>\r\n <b@y>   <out-1.rnd@guichet.test> <a@x>",
        }
    )
    mail = parse_message(raw)
    assert mail.message_id == "abc.123@Mail.Example.org"
    assert mail.in_reply_to == ("out-1.rnd@guichet.test",)
    assert mail.references == ("a@x", "b@y", "out-1.rnd@guichet.test")


def test_subject_is_decoded_and_its_token_found() -> None:
    raw = message(subject="=?utf-8?q?Re=3A_=5B=23G-1042=5D_Colis_ab=C3=AEm=C3=A9?=")
    mail = parse_message(raw)
    assert mail.subject == "Re: [#G-1042] Colis abîmé"
    assert mail.subject_token == "G-1042"


def test_subject_token_pattern_is_configurable() -> None:
    raw = message(subject="Re: Ticket#778812 broken")
    assert parse_message(raw).subject_token is None
    assert parse_message(raw, subject_token=r"Ticket#(\d+)").subject_token == "778812"


def test_plus_address_tokens_on_our_addresses_only() -> None:
    raw = message(
        to="Support <support+Tk7x9@guichet.test>, bob+shop@example.org",
        headers={"Cc": "other+zz@guichet.test", "Delivered-To": "support+dlv@guichet.test"},
    )
    assert parse_message(raw, own_addresses=OWN).plus_tokens == ("Tk7x9", "dlv")
    assert set(parse_message(raw).plus_tokens) == {"Tk7x9", "shop", "zz", "dlv"}


def test_addresses_names_date_and_size() -> None:
    raw = message(
        sender="=?utf-8?b?w4lsb2RpZSBEdXBvbnQ=?= <Elodie@Example.ORG>",
        to='a@x.org, "Doe, John" <john@y.org>',
        headers={"Cc": "c@z.org", "Auto-Submitted": "No"},
    )
    mail = parse_message(raw)
    assert (mail.from_address, mail.from_name) == ("Elodie@example.org", "Élodie Dupont")
    assert [a.address for a in mail.to] == ["a@x.org", "john@y.org"]
    assert mail.to[1].name == "Doe, John"
    assert [a.address for a in mail.cc] == ["c@z.org"]
    assert mail.date == datetime(2024, 12, 3, 9, 0, tzinfo=UTC)
    assert mail.auto_submitted == "no"
    assert mail.raw_size == len(raw)


def test_raw_8bit_headers_are_read_as_utf8() -> None:
    raw = message(subject="x").replace(b"Subject: x", "Subject: Problème de livraison".encode())
    raw = raw.replace(b"From: Alice Martin", "From: Zoé Martin".encode())
    mail = parse_message(raw)
    assert mail.subject == "Problème de livraison"
    assert mail.from_name == "Zoé Martin"


def test_garbage_headers_do_not_crash() -> None:
    raw = (
        b"From: <<<@@@>>>\r\nTo: ,,,;;;\r\nDate: yesterday-ish\r\nMessage-ID: no brackets\r\n"
        b"Subject: =?bogus?Q?=ZZ?=\r\nReferences: <<<>>\r\n\x00Weird: \xff\xfe\r\n\r\nbody"
    )
    mail = parse_message(raw)
    assert mail.date is None
    assert mail.mail_class in set(MailClass)
    assert mail.class_reason


def _png(name: str, extra: str = "") -> str:
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode()
    return f'Content-Type: image/png; name="{name}"\n{extra}Content-Transfer-Encoding: base64\n\n{data}\n'


def test_inline_cid_image_is_kept_with_its_content_id() -> None:
    raw = multipart(
        [
            'Content-Type: text/html; charset=utf-8\n\n<p>Voir photo</p><img src="cid:photo1@x">',
            _png("photo.png", "Content-ID: <photo1@x>\nContent-Disposition: inline\n"),
        ],
        subtype="related",
    )
    mail = parse_message(raw)
    (image,) = mail.attachments
    assert (image.filename, image.content_type, image.content_id, image.inline) == (
        "photo.png", "image/png", "photo1@x", True,
    )  # fmt: skip
    assert image.data.startswith(b"\x89PNG") and image.size == len(image.data)
    assert mail.html_sanitised is not None and "cid:photo1@x" in mail.html_sanitised


def test_dangerous_attachment_names_are_neutralised_in_the_result() -> None:
    raw = multipart(
        [
            "Content-Type: text/plain\n\nsee attached",
            "Content-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="../../evil.sh"\n\nx',
            "Content-Type: application/octet-stream\nContent-Disposition: attachment;"
            " filename*=utf-8''invoice%E2%80%AEfdp.exe\n\nx",
            'Content-Type: application/pdf\nContent-Disposition: attachment; filename="facture.pdf.exe"\n\nx',
        ]
    )
    names = [a.filename for a in parse_message(raw).attachments]
    assert names == ["evil_sh.bin", "invoicefdp_exe.bin", "facture.pdf_exe.bin"]
    attachments = parse_message(raw).attachments
    assert attachments[1].original_filename == "invoice\u202efdp.exe"
    assert all(a.filename_changes for a in attachments)
    assert all(not a.inline for a in attachments)


def test_attachments_over_the_limits_are_omitted_and_counted() -> None:
    parts = ["Content-Type: text/plain\n\nfiles"] + [
        f'Content-Type: text/csv\nContent-Disposition: attachment; filename="f{i}.csv"\n\n'
        + "x" * (100 * (i + 1))
        for i in range(5)
    ]
    limits = ParseLimits(max_attachments=3, max_attachment_bytes=450, max_total_attachment_bytes=550)
    mail = parse_message(multipart(parts), limits=limits)
    # f0 (100) and f1 (200) fit; f2 (300) would pass 550 in total; f3 (400) fits alone but not
    # in the total either; f4 (500) is over the size of one attachment.
    assert [a.filename for a in mail.attachments] == ["f0.csv", "f1.csv"]
    assert [(o.filename, o.size, o.reason) for o in mail.omitted] == [
        ("f2.csv", 300, "over the 550 bytes total for attachments"),
        ("f3.csv", 400, "over the 550 bytes total for attachments"),
        ("f4.csv", 500, "over the 450 bytes limit for one attachment"),
    ]
    assert mail.omitted_summary.startswith("3 attachments omitted (")
    assert mail.mail_class is MailClass.CUSTOMER


def test_attachment_count_limit() -> None:
    parts = ["Content-Type: text/plain\n\nfiles"] + [
        f'Content-Type: text/csv\nContent-Disposition: attachment; filename="f{i}.csv"\n\nx' for i in range(4)
    ]
    mail = parse_message(multipart(parts), limits=ParseLimits(max_attachments=3))
    assert len(mail.attachments) == 3
    assert mail.omitted_summary == "1 attachment omitted (over the limit of 3 attachments)"


def _nested(depth: int) -> bytes:
    body = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth))
    body += b"Content-Type: text/plain\n\nhi\n" + b"".join(b"--b%d--\n" % i for i in reversed(range(depth)))
    return b"From: a@example.org\nSubject: bomb\nMessage-ID: <bomb@x>\n" + body


def test_nesting_depth_bomb_is_malformed_with_a_reason() -> None:
    mail = parse_message(_nested(40))
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED
    assert "nesting deeper than 12" in mail.class_reason
    assert not mail.automatic_reply_allowed
    assert mail.message_id == "bomb@x"  # still described for the quarantine


def test_a_message_declaring_thousands_of_parts_is_refused_before_parsing() -> None:
    raw = b"From: a@example.org\nContent-Type: multipart/mixed; boundary=x\n\n"
    raw += b"--x\nContent-Type: text/plain\n\nhi\n" * 20_000 + b"--x--\n"
    mail = parse_message(raw)
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED
    assert "more than 250 MIME parts" in mail.class_reason
    assert mail.from_address == "a@example.org"


def test_deeply_nested_attached_messages_do_not_recurse_out() -> None:
    raw = b"From: a@example.org\n" + b"Content-Type: message/rfc822\n\n" * 3000 + b"Subject: x\n\nhi\n"
    mail = parse_message(raw)
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED


def test_over_the_time_cap_is_malformed_not_an_exception() -> None:
    mail = parse_message(message(), limits=ParseLimits(max_parse_seconds=0))
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED
    assert mail.class_reason == "parsing took longer than 0 s"


def test_huge_header_block_is_malformed() -> None:
    raw = b"From: a@example.org\n" + b"X-Junk: " + b"a" * 300_000 + b"\n\nbody"
    mail = parse_message(raw)
    assert mail.mail_class is MailClass.SPAM_OR_MALFORMED
    assert "header block larger" in mail.class_reason


def test_empty_input_is_malformed() -> None:
    assert parse_message(b"").mail_class is MailClass.SPAM_OR_MALFORMED


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_class_and_a_reason(raw: bytes) -> None:
    mail = parse_message(raw)
    assert mail.mail_class in set(MailClass)
    assert mail.class_reason


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    b"From: a@b.c\n", b"Content-Type: multipart/mixed; boundary=z\n", b"Content-Type: message/rfc822\n",
    b"\n", b"--z\n", b"--z--\n", b"Content-Transfer-Encoding: base64\n",
    b"Content-Type: text/plain; charset=zz\n",
    b"=?utf-8?b?w6k=?=\n", b"\xff\xfe\n", b"Subject: =?x?q?=C3?=\n", b"QUJD===\n",
]), max_size=60))  # fmt: skip
def test_mime_shaped_junk_gives_a_class_and_a_reason(chunks: list[bytes]) -> None:
    mail = parse_message(b"".join(chunks))
    assert mail.class_reason
