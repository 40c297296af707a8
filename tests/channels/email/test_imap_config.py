"""Mailbox URLs, the reader's backoff, and the parsing of IMAP responses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from aioimaplib import Response

from channels.email.imap_config import MailboxConfigError, parse_mailbox_url, parse_mailboxes
from channels.email.imap_in import backoff_delay, imap_service, source_ref
from channels.email.imap_session import (
    encode_folder,
    imap_date,
    parse_body,
    parse_internaldate,
    parse_metas,
    parse_uids,
)
from gateway.config import EmailSettings, load_settings


def test_a_tls_url_with_encoded_credentials() -> None:
    box = parse_mailbox_url("imaps://support%40example.com:p%40ss%2Cw0rd@imap.example.com/Support%20Mail")
    assert (box.host, box.port, box.tls) == ("imap.example.com", 993, True)
    assert (box.user, box.password, box.folder) == ("support@example.com", "p@ss,w0rd", "Support Mail")
    assert box.key == "support@example.com@imap.example.com/Support Mail"
    assert box.after_import == "seen" and not box.import_existing


def test_defaults_and_per_folder_overrides() -> None:
    box = parse_mailbox_url("imap://u:p@127.0.0.1:1143", import_existing=True, after_import="keyword")
    assert (box.port, box.tls, box.folder, box.import_existing, box.after_import) == (
        1143,
        False,
        "INBOX",
        True,
        "keyword",
    )
    url = "imaps://u:p@h/INBOX?import_existing=false&after_import=move:Done"
    box = parse_mailbox_url(url, import_existing=True)
    assert (box.import_existing, box.after_import, box.move_to) == (False, "move:Done", "Done")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("imap://u:secret@imap.example.com/INBOX", "imaps://"),  # clear text off loopback
        ("pop3://u:secret@h/", "scheme"),
        ("imaps://h/INBOX", "user and password"),
        ("imaps://u:secret@h/INBOX?folder=x", "unknown option 'folder'"),
        ("imaps://u:secret@h/INBOX?after_import=archive", "after_import"),
        ("imaps://u:secret@h/INBOX?import_existing=maybe", "import_existing"),
        ("imaps://u:secret@h:99999/INBOX", "Port"),
    ],
)
def test_bad_urls_are_refused_without_showing_the_password(url: str, says: str) -> None:
    with pytest.raises(MailboxConfigError) as err:
        parse_mailbox_url(url)
    assert says.lower() in str(err.value).lower()
    assert "secret" not in str(err.value)


def test_the_password_never_shows_in_logs() -> None:
    box = parse_mailbox_url("imaps://u:hunter2@h/INBOX")
    assert "hunter2" not in repr(box) and "hunter2" not in str(box) and "hunter2" not in f"{box}"


def test_a_folder_listed_twice_is_refused() -> None:
    with pytest.raises(MailboxConfigError, match="twice"):
        urls = ["imaps://u:a@H/INBOX", "imaps://u:b@h:993/INBOX"]
        parse_mailboxes(urls, import_existing=False, after_import="seen")


def test_settings_from_toml_and_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text('[email]\nimap_mailboxes = ["imaps://a:b@h/INBOX"]\nimap_after_import = "keyword"\n')
    s = load_settings(path, environ={})
    assert s.email.imap_mailboxes == ["imaps://a:b@h/INBOX"] and s.email.imap_after_import == "keyword"
    env = {"GUICHET_EMAIL_IMAP_MAILBOXES": "imaps://a:b@h/INBOX,imaps://c:d%2Ce@h/Other"}
    s = load_settings(None, environ=env)
    boxes = parse_mailboxes(s.email.imap_mailboxes, import_existing=False, after_import="seen")
    assert [(b.user, b.password, b.folder) for b in boxes] == [("a", "b", "INBOX"), ("c", "d,e", "Other")]


def test_no_service_without_mailboxes_and_a_bad_setting_fails_at_start() -> None:
    assert imap_service(EmailSettings(), None, None, None) is None  # type: ignore[arg-type]
    bad = EmailSettings(imap_mailboxes=["imaps://u:p@h/INBOX"], imap_after_import="delete")
    with pytest.raises(MailboxConfigError, match="after_import"):
        imap_service(bad, None, None, None)  # type: ignore[arg-type]


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    lows = [backoff_delay(n, 1.0, 60.0, rand=lambda: 0.0) for n in range(10)]
    highs = [backoff_delay(n, 1.0, 60.0, rand=lambda: 1.0) for n in range(10)]
    assert lows[:4] == [0.5, 1.0, 2.0, 4.0] and highs[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(highs) == 60.0 and min(lows[6:]) == 30.0  # capped, never zero
    assert backoff_delay(10_000, 1.0, 60.0) <= 60.0


def test_source_ref_names_mailbox_uidvalidity_and_uid() -> None:
    assert source_ref("u@h/INBOX", 7, 42) == "imap:u@h/INBOX:7:42"


def test_search_responses() -> None:
    assert parse_uids(Response("OK", [b"4 5 9", b"Search completed."])) == [4, 5, 9]
    assert parse_uids(Response("OK", [b"SEARCH 4", b"Search completed."])) == [4]
    # an untagged "3 EXISTS" that reached the command's lines is no UID
    assert parse_uids(Response("OK", [b"3 EXISTS", b"7", b"Search completed."])) == [7]
    assert parse_uids(Response("OK", [b"Search completed."])) == []


def test_fetch_responses_pick_the_right_message() -> None:
    raw = bytearray(b"Subject: x\r\n\r\nbody\r\n")
    response = Response(
        "OK",
        [
            b"2 FETCH (FLAGS (\\Seen) UID 8)",  # another client's flag change, unsolicited
            b"3 FETCH (UID 9 BODY[] {22}",
            raw,
            b")",
            b"Fetch completed.",
        ],
    )
    assert parse_body(response, 9) == bytes(raw)
    assert parse_body(response, 8) is None
    line = b'1 FETCH (UID 4 INTERNALDATE "03-Dec-2026 10:26:02 +0100" FLAGS (\\Seen $X) RFC822.SIZE 62)'
    metas = parse_metas(Response("OK", [line]))
    assert metas[4].flags == {"\\Seen", "$X"} and metas[4].size == 62
    assert metas[4].internaldate == datetime(2026, 12, 3, 9, 26, 2, tzinfo=UTC)


def test_dates() -> None:
    assert imap_date(date(2026, 3, 7)) == "7-Mar-2026"
    assert parse_internaldate("garbage") is None


def test_folder_names_in_modified_utf7() -> None:
    assert encode_folder("INBOX") == '"INBOX"'
    assert encode_folder("Entwürfe") == '"Entw&APw-rfe"'
    assert encode_folder("Traités & clos") == '"Trait&AOk-s &- clos"'
    assert encode_folder('Say "hi"') == '"Say \\"hi\\""'
    assert encode_folder("日本語") == '"&ZeVnLIqe-"'
