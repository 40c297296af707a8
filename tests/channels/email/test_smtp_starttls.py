"""STARTTLS on the SMTP listener (issue 8: optional, with a configured certificate).

A throwaway self-signed certificate is made by ``openssl`` for each test run; with it
configured (``email.tls_cert`` / ``email.tls_key``), EHLO offers STARTTLS, swaks
``-tls`` and smtplib (verifying the certificate) upgrade the session and the mail sent
over TLS is stored.  Without a certificate STARTTLS is not offered and a client that
insists is refused; a certificate that cannot be loaded stops the listener with a
message naming the setting."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from channels.email.smtp_in import SmtpListener, TlsConfigError
from gateway.config import Settings
from gateway.db.tables_mail import MailInbound
from tests.channels.email.smtp_fixtures import Listening, listening, sink  # noqa: F401
from tests.channels.email.test_smtp_in import rows, smtp_send, swaks
from tests.support.mail_core import SUPPORT, build_core, make_mail
from tests.support.services import free_port, missing
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.parametrize("migrated", ["sqlite"], indirect=True)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost, valid one day, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl (Debian package openssl)")
    assert openssl is not None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
async def tls_listening(
    migrated: Settings, sink: SmtpSink, tmp_path: Path  # noqa: F811
) -> AsyncIterator[tuple[Listening, Path]]:
    cert, key = self_signed(tmp_path)
    mc, engine = await build_core(migrated, sink)
    mc.settings.email.tls_cert, mc.settings.email.tls_key = str(cert), str(key)
    mc.settings.email.smtp_port = free_port()
    listener = SmtpListener(mc.mail)
    await listener.start()
    yield Listening(mc, listener.port), cert
    await listener.stop()
    await engine.dispose()  # type: ignore[attr-defined]


def ehlo_features(port: int) -> dict[str, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.example.org")
        return dict(client.esmtp_features)


def send_over_starttls(port: int, cert: Path | None, raw: bytes) -> tuple[str, dict[str, tuple[int, bytes]]]:
    """smtplib with certificate verification against the throwaway certificate."""
    context = ssl.create_default_context(cafile=str(cert) if cert else None)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.example.org")
        code, _ = client.starttls(context=context)
        assert code == 220
        sock = client.sock
        assert isinstance(sock, ssl.SSLSocket)
        version = str(sock.version())
        client.ehlo("client.example.org")  # after the upgrade: no STARTTLS again, no AUTH offered
        assert not client.has_extn("starttls") and not client.has_extn("auth")
        refused = client.sendmail("alice@example.org", [SUPPORT], raw)
    return version, refused


def insist_on_starttls(port: int) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.example.org")
        return client.docmd("STARTTLS")


async def test_starttls_offered_and_smtplib_upgrades_with_a_verified_certificate(
    tls_listening: tuple[Listening, Path],
) -> None:
    listening_, cert = tls_listening
    assert "starttls" in await asyncio.to_thread(ehlo_features, listening_.port)
    raw = make_mail("Sent over TLS: where is my parcel?", message_id="tls-smtplib@example.org")
    version, refused = await asyncio.to_thread(send_over_starttls, listening_.port, cert, raw)
    assert version.startswith("TLSv1.") and refused == {}
    [row] = await rows(listening_)
    assert row.message_id == "tls-smtplib@example.org" and row.status == "received"
    await listening_.mc.drain()
    [row] = await rows(listening_)
    assert row.status == "processed" and row.conversation_id is not None


def swaks_can_tls() -> None:
    """swaks speaks TLS through Perl's Net::SSLeay (Debian: libnet-ssleay-perl)."""
    perl = shutil.which("perl")
    if perl is None or subprocess.run([perl, "-MNet::SSLeay", "-e1"], capture_output=True).returncode:
        missing("Net::SSLeay for swaks -tls (Debian package libnet-ssleay-perl)")


async def test_swaks_tls_upgrades_and_the_message_is_stored(tls_listening: tuple[Listening, Path]) -> None:
    listening_, _ = tls_listening
    swaks_can_tls()
    code, out = await swaks(
        listening_.port, "--to", SUPPORT, "-tls", "--header", "Message-Id: <tls-swaks@example.org>",
        "--header", "Subject: over TLS",
    )
    assert code == 0, out
    # swaks marks the TLS session's lines with "~>" / "<~" (plain text: "->" / "<-")
    assert " -> STARTTLS" in out and "<-  220" in out, out
    assert "<~  250 2.0.0 OK: stored as mail" in out, out
    [row] = await rows(listening_)
    assert row.message_id == "tls-swaks@example.org"


async def test_without_a_certificate_starttls_is_not_offered(listening: Listening) -> None:  # noqa: F811
    assert "starttls" not in await asyncio.to_thread(ehlo_features, listening.port)
    swaks_can_tls()
    code, out = await swaks(listening.port, "--to", SUPPORT, "-tls")
    assert code != 0 and "did not advertise STARTTLS" in out, out
    assert await rows(listening) == []  # swaks -tls gives up rather than send in clear
    with pytest.raises(smtplib.SMTPNotSupportedError):
        await asyncio.to_thread(send_over_starttls, listening.port, None, make_mail())
    assert (await asyncio.to_thread(insist_on_starttls, listening.port))[0] in (454, 502)  # never 220
    # plain SMTP still works
    assert await asyncio.to_thread(smtp_send, listening.port, make_mail(), [SUPPORT]) == {}


async def test_an_unreadable_certificate_is_a_clear_startup_error(
    migrated: Settings, sink: SmtpSink, tmp_path: Path  # noqa: F811
) -> None:
    mc, engine = await build_core(migrated, sink)
    try:
        (tmp_path / "key.pem").write_text("not a key\n")
        mc.settings.email.tls_cert = str(tmp_path / "missing-cert.pem")
        mc.settings.email.tls_key = str(tmp_path / "key.pem")
        mc.settings.email.smtp_port = free_port()
        with pytest.raises(TlsConfigError, match=r"email\.tls_cert"):
            await SmtpListener(mc.mail).start()
        (tmp_path / "real").mkdir()
        cert, _ = self_signed(tmp_path / "real")
        mc.settings.email.tls_cert = str(cert)  # a certificate, but the key is garbage
        with pytest.raises(TlsConfigError, match=r"email\.tls_key"):
            await SmtpListener(mc.mail).start()
        mc.settings.email.tls_key = ""  # only one of the two: refused, not silently plain
        with pytest.raises(TlsConfigError, match="both"):
            await SmtpListener(mc.mail).start()
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


def test_starttls_on_uvloop_the_loop_guichet_serve_runs_on(migrated: Settings, tmp_path: Path) -> None:
    """aiosmtpd upgrades with asyncio's own SSLProtocol over the loop's transport:
    checked on uvloop too (``server.event_loop = "auto"``)."""
    from gateway import event_loop

    cert, key = self_signed(tmp_path)

    async def scenario() -> tuple[str, dict[str, tuple[int, bytes]], list[MailInbound]]:
        assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
        relay = SmtpSink().start()
        mc, engine = await build_core(migrated, relay)
        try:
            mc.settings.email.tls_cert, mc.settings.email.tls_key = str(cert), str(key)
            mc.settings.email.smtp_port = free_port()
            listener = SmtpListener(mc.mail)
            await listener.start()
            try:
                raw = make_mail("Over TLS on uvloop", message_id="tls-uvloop@example.org")
                version, refused = await asyncio.to_thread(send_over_starttls, listener.port, cert, raw)
            finally:
                await listener.stop()
            return version, refused, await rows(Listening(mc, 0))
        finally:
            await engine.dispose()  # type: ignore[attr-defined]
            relay.stop()

    with asyncio.Runner(loop_factory=lambda: event_loop.new_event_loop("uvloop")) as runner:
        version, refused, stored = runner.run(scenario())
    assert version.startswith("TLSv1.") and refused == {}
    assert [r.message_id for r in stored] == ["tls-uvloop@example.org"]
