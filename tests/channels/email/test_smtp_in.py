"""The SMTP listener with real clients (swaks, smtplib): recipients checked in RCPT
(550, never an open relay), size limit (552), per-client rate limit (451), and the
250 only once the message is committed; unparseable mail is accepted and quarantined."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.db.tables_mail import MailInbound
from tests.channels.email.smtp_fixtures import Listening, listening, sink  # noqa: F401
from tests.support.mail_core import make_mail
from tests.support.services import missing

pytestmark = pytest.mark.parametrize("migrated", ["sqlite"], indirect=True)


def swaks_path() -> str:
    path = shutil.which("swaks")
    if path is None:
        missing("swaks (Debian package swaks)")
    assert path is not None
    return path


async def swaks(port: int, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        swaks_path(),
        "--server",
        "127.0.0.1",
        "--port",
        str(port),
        "--from",
        "alice@example.org",
        "--hide-informational",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


async def rows(listening: Listening) -> list[MailInbound]:  # noqa: F811
    async with listening.mc.store.read() as tx:
        return list((await tx.session.execute(select(MailInbound).order_by(MailInbound.id))).scalars())


def smtp_send(
    port: int, raw: bytes, to: list[str], sender: str = "alice@example.org"
) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(sender, to, raw)


async def test_swaks_unknown_recipient_gets_550_and_no_relaying(listening: Listening) -> None:  # noqa: F811
    code, out = await swaks(listening.port, "--to", "someone@gmail.test")
    assert code != 0 and "550 5.1.1" in out
    code, out = await swaks(listening.port, "--to", "postmaster@guichet.test")
    assert code != 0 and "550" in out
    assert await rows(listening) == []


async def test_swaks_support_address_and_plus_variant_get_250_after_commit(listening: Listening) -> None:  # noqa: F811
    code, out = await swaks(listening.port, "--to", "Support+abc@GUICHET.test", "--header", "Subject: hello")
    assert code == 0, out
    assert "250 2.0.0 OK: stored as mail" in out
    stored = await rows(listening)  # no job has run: the row is there because the 250 came after COMMIT
    assert len(stored) == 1 and stored[0].status == "received"
    assert stored[0].envelope_to == ["Support+abc@GUICHET.test"]


async def test_smtplib_250_means_committed(listening: Listening) -> None:  # noqa: F811
    raw = make_mail("Where is my parcel?", message_id="committed@example.org")
    refused = await asyncio.to_thread(smtp_send, listening.port, raw, ["support@guichet.test"])
    assert refused == {}
    [row] = await rows(listening)
    assert row.message_id == "committed@example.org" and row.size == len(raw)


async def test_oversized_message_gets_552(listening: Listening, tmp_path: Path) -> None:  # noqa: F811
    listening.mc.settings.email.max_message_bytes = 2000
    raw = make_mail(("x" * 70 + "\n") * 80)
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as err:  # SIZE= in MAIL, or DATA
        await asyncio.to_thread(smtp_send, listening.port, raw, ["support@guichet.test"])
    assert err.value.smtp_code == 552
    body = tmp_path / "body.txt"
    body.write_text(("y" * 70 + "\n") * 80)
    code, out = await swaks(listening.port, "--to", "support@guichet.test", "--body", str(body))
    assert code != 0 and "552" in out
    assert await rows(listening) == []


async def test_rate_limit_per_client_gets_451(listening: Listening) -> None:  # noqa: F811
    listening.mc.settings.email.rate_limit_messages = 2
    for _ in range(2):
        await asyncio.to_thread(smtp_send, listening.port, make_mail(), ["support@guichet.test"])
    with pytest.raises(smtplib.SMTPSenderRefused) as err:
        await asyncio.to_thread(smtp_send, listening.port, make_mail(), ["support@guichet.test"])
    assert err.value.smtp_code == 451
    code, out = await swaks(listening.port, "--to", "support@guichet.test")
    assert code != 0 and "451 4.7.1" in out
    assert len(await rows(listening)) == 2


async def test_garbage_is_accepted_stored_and_quarantined_not_refused(listening: Listening) -> None:  # noqa: F811
    raw = b"\x00\xff\xfe garbage with no headers at all \x80\x81\r\n\r\n\xc3\x28"
    refused = await asyncio.to_thread(smtp_send, listening.port, raw, ["support@guichet.test"])
    assert refused == {}
    await listening.mc.drain()
    [row] = await rows(listening)
    assert row.status == "quarantined" and row.quarantine_reason
