"""Charset fallback, HTML to text, HTML sanitising."""

from __future__ import annotations

from channels.email.mime_text import decode_bytes, html_to_text, normalise_charset, sanitise_html
from channels.email.parse import parse_message
from tests.channels.email.mail_samples import message, multipart


def test_unknown_charset_falls_back_to_utf8_and_says_so() -> None:
    text, note = decode_bytes("café".encode(), "x-no-such-charset")
    assert text == "café"
    assert note is not None and "unknown charset" in note


def test_unknown_charset_that_is_not_utf8_falls_back_to_windows_1252() -> None:
    text, note = decode_bytes("café €".encode("cp1252"), "x-klingon")
    assert text == "café €"
    assert note is not None


def test_charset_labels_python_does_not_know_are_mapped() -> None:
    assert normalise_charset("ks_c_5601-1987") == "cp949"
    assert normalise_charset('"UNICODE-1-1-UTF-7"') == "utf-7"
    assert normalise_charset("garbage;;") is None


def test_declared_charset_with_bad_bytes_keeps_the_good_text() -> None:
    text, note = decode_bytes("日本語".encode("shift_jis") + b"\xff\xfe", "shift_jis")
    assert text.startswith("日本語")
    assert note is not None


def test_unknown_charset_in_a_message_never_crashes_and_keeps_the_text() -> None:
    raw = message("Bonjour, ça ne marche pas", content_type="text/plain; charset=x-unknown-42")
    mail = parse_message(raw)
    assert mail.text == "Bonjour, ça ne marche pas"
    assert any("unknown charset" in p for p in mail.problems)
    assert mail.mail_class == "customer"


def test_latin1_body_declared_as_ascii_is_decoded() -> None:
    raw = message("x", content_type="text/plain; charset=us-ascii").replace(b"\r\n\r\nx", b"\r\n\r\ncaf\xe9")
    assert parse_message(raw).text == "café"


def test_broken_base64_body_is_read_as_far_as_possible() -> None:
    raw = multipart(
        [
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            "Qm9uam91ciBsZSBtb25kZQ=!!!\n"
        ]
    )
    mail = parse_message(raw)
    assert mail.mail_class == "customer"
    assert "Bonjour" in mail.text


def test_broken_quoted_printable_does_not_crash() -> None:
    raw = multipart(
        [
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            "ca=C3=A7a =ZZ=\n"
        ]
    )
    assert "ça" in parse_message(raw).text


def test_html_to_text_keeps_paragraphs_lists_links_and_drops_scripts() -> None:
    html = (
        "<html><head><style>p{}</style><title>t</title></head><body>"
        "<p>Hello&nbsp;there</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul>"
        '<p>See <a href="https://example.org/help">the help page</a>.<br>Thanks</p></body></html>'
    )
    text = html_to_text(html)
    assert text.splitlines() == [
        "Hello there",
        "",
        "- one",
        "- two",
        "",
        "See the help page <https://example.org/help>.",
        "Thanks",
    ]


def test_html_blockquote_becomes_quoted_lines() -> None:
    text = html_to_text("<div>My answer</div><blockquote><p>old text</p></blockquote>")
    assert text.splitlines() == ["My answer", "", "> old text"]


def test_sanitised_html_has_no_script_handler_or_javascript_url_but_keeps_cid_images() -> None:
    html = (
        '<p onclick="steal()">Hi</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>'
        '<img src="cid:logo@x"><iframe src="https://evil.example"></iframe><form><input></form>'
    )
    clean = sanitise_html(html)
    for bad in ("onclick", "<script", "alert(1)", "javascript:", "<iframe", "<form", "<input"):
        assert bad not in clean
    assert 'src="cid:logo@x"' in clean
    assert "Hi" in clean


def test_html_only_message_gives_text_for_the_bot_and_sanitised_html() -> None:
    raw = message(
        "<p>Mon colis est perdu.</p><script>x()</script>",
        content_type="text/html; charset=utf-8",
    )
    mail = parse_message(raw)
    assert mail.text == "Mon colis est perdu."
    assert mail.html is not None and "<script>" in mail.html  # kept as sent
    assert mail.html_sanitised is not None and "<script>" not in mail.html_sanitised


def test_text_plain_is_preferred_over_html_in_an_alternative() -> None:
    raw = multipart(
        [
            "Content-Type: text/plain; charset=utf-8\n\nplain version",
            "Content-Type: text/html; charset=utf-8\n\n<p>html version</p>",
        ],
        subtype="alternative",
    )
    mail = parse_message(raw)
    assert mail.text == "plain version"
    assert mail.html == "<p>html version</p>"
