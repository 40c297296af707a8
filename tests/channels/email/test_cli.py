"""``guichet mail parse FILE --json``: what the pipeline would store, stored nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from tests.channels.email.mail_samples import message

BODY = (
    "Bonjour, toujours rien reçu.\n\nEnvoyé de mon iPhone\n\n"
    "Le 3 déc. 2024 à 10:00, Support <support@guichet.test> a écrit :\n> Votre colis est parti."
)


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUICHET_CONFIG", raising=False)


def _eml(tmp_path: Path) -> Path:
    path = tmp_path / "reply.eml"
    path.write_bytes(
        message(
            BODY,
            to="support+Tk7x9@guichet.test",
            subject="Re: [#G-1042] Colis",
            headers={
                "In-Reply-To": "<out-1.rnd@guichet.test>",
                "References": "<a@x> <out-1.rnd@guichet.test>",
            },
        )
    )
    return path


def test_json_shows_class_text_quote_signature_and_threading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["mail", "parse", str(_eml(tmp_path)), "--json", "--own-address", "support@guichet.test"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["class"], out["automatic_reply_allowed"]) == ("customer", True)
    assert out["reason"]
    assert out["text"] == "Bonjour, toujours rien reçu."
    assert out["signature"] == "Envoyé de mon iPhone"
    assert out["quoted"].endswith("> Votre colis est parti.")
    assert out["threading"] == {
        "message_id": "m1@example.org",
        "in_reply_to": ["out-1.rnd@guichet.test"],
        "references": ["a@x", "out-1.rnd@guichet.test"],
        "plus_tokens": ["Tk7x9"],
        "subject_token": "G-1042",
    }
    assert out["attachments"] == [] and out["omitted_summary"] == ""


def test_own_addresses_default_to_the_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "loop.eml"
    path.write_bytes(message(sender="support@example.com"))  # the default email.addresses
    assert main(["mail", "parse", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["class"] == "auto_reply" and "own address" in out["reason"]


def test_human_output_and_a_hostile_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "junk.eml"
    path.write_bytes(b"\xff\xfe\x00garbage" * 50)
    assert main(["mail", "parse", str(path)]) == 0
    assert "class:      spam_or_malformed" in capsys.readouterr().out


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "parse", str(tmp_path / "nope.eml"), "--json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_invalid_token_pattern_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "parse", str(_eml(tmp_path)), "--subject-token", "(unclosed"]) == 2
    assert "invalid --subject-token" in capsys.readouterr().err
