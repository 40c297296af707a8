"""The SMTP listener (aiosmtpd) on the application's own event loop.

Zulip's rule: recipients are checked in RCPT, the message is only stored in DATA,
no business logic inside the SMTP session.  RCPT accepts our support addresses
and their ``+tag`` variants only (550 otherwise: never an open relay); DATA over
``email.max_message_bytes`` gets 552 (aiosmtpd's size limit); a client address
over ``email.rate_limit_messages`` per window gets 451 at MAIL (the counts are in
the database, shared by every process); STARTTLS is offered when a certificate
is configured.  The 250 is sent only after :func:`gateway.mail.ingest.ingest_raw`
committed the raw message; parsing happens afterwards, so a message that cannot
be parsed is still accepted, stored and quarantined — never refused after DATA.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import uuid
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.mail import rate
from gateway.mail.ingest import ingest_raw
from gateway.mail.service import MailService

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
AIOSMTPD_LOG = "mail.log"  # aiosmtpd's logger: a line per command, addresses included


def quiet_session_log() -> None:
    """aiosmtpd logs every command of every session at INFO (seven lines a mail, the
    senders' and recipients' addresses in them): kept to warnings, unless the
    application logs at DEBUG or that logger was set explicitly.  What was received
    is in the database (``guichet mail``, the API), not in the log."""
    logger = logging.getLogger(AIOSMTPD_LOG)
    if logger.level == logging.NOTSET and not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)


class TolerantSMTP(SMTP):
    """aiosmtpd's session, tolerant of lines longer than RFC 5321's 1000 octets (as
    Postfix is): some real senders write them, and refusing a customer's mail for
    it helps nobody."""

    line_length_limit = 8192


class MailHandler:
    """aiosmtpd handler: the RCPT check, the rate limit and the store."""

    def __init__(self, mail: MailService) -> None:
        self.mail = mail
        self.counts = rate.RecentCounts()

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """aiosmtpd's EHLO lines without ``AUTH``: this listener receives mail for its
        own addresses and authenticates nobody, so it does not advertise it (after
        STARTTLS aiosmtpd would otherwise offer LOGIN and PLAIN it cannot check)."""
        session.host_name = hostname
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        client = _peer(session)
        cfg = self.mail.cfg
        self.mail.note_smtp()  # background mail processing yields to sessions (processing.py)
        if client and cfg.rate_limit_messages > 0:
            key, now, window = f"smtp:{client}", self.mail.clock.now(), cfg.rate_limit_window_seconds
            sent = self.counts.cached(key, now, cfg.rate_limit_messages, window)
            if sent is None:  # far from the limit a recent count decides; near it, the database
                async with self.mail.store.read() as tx:
                    sent = await rate.count(tx.session, key, now, window)
                self.counts.remember(key, now, window, sent)
            if sent >= cfg.rate_limit_messages:
                return "451 4.7.1 Too many messages from your address; try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.mail.own.accepts(address):
            return (
                "550 5.1.1 No such recipient here (this server only receives mail for its support addresses)"
            )
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mail.note_smtp()
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            result = await ingest_raw(
                self.mail,
                raw,
                source="smtp",
                source_ref=f"smtp:{uuid.uuid4().hex}",
                envelope_from=str(envelope.mail_from or ""),
                envelope_to=[str(r) for r in envelope.rcpt_tos],
                client=_peer(session),
            )
        except Exception:
            log.exception("storing an SMTP message failed; the client is asked to retry")
            return "451 4.3.0 Could not store the message; try again later"
        if not result.duplicate:
            self.counts.accepted(f"smtp:{_peer(session)}", self.mail.clock.now(),
                                 self.mail.cfg.rate_limit_window_seconds)
        return f"250 2.0.0 OK: stored as mail {result.inbound_id}"


def _peer(session: Session) -> str:
    peer: Any = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])[:64]
    return str(peer or "")[:64]


class TlsConfigError(ValueError):
    """``email.tls_cert`` / ``email.tls_key`` cannot be used; the message names the setting."""


def tls_context(cert: str, key: str) -> ssl.SSLContext | None:
    """The server context for STARTTLS, or ``None`` when neither file is configured
    (STARTTLS is then not offered).  A half or broken configuration is an error at
    start-up, never a silent fallback to plain SMTP."""
    if not (cert or key):
        return None
    if not (cert and key):
        raise TlsConfigError("STARTTLS needs both email.tls_cert and email.tls_key (PEM files); one is empty")
    try:
        ssl.create_default_context(cafile=cert)  # the certificate alone: readable PEM?
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigError(f"email.tls_cert {cert!r} cannot be loaded as a PEM certificate: {exc}") from exc
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigError(
            f"email.tls_key {key!r} cannot be loaded as the PEM private key of {cert!r}: {exc}"
        ) from exc
    return context


class SmtpListener:
    """One listening socket on the running loop; stopped with :meth:`stop`."""

    def __init__(self, mail: MailService) -> None:
        self.mail = mail
        self.handler = MailHandler(mail)
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None and self.server.sockets
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        cfg = self.mail.cfg
        quiet_session_log()
        context = tls_context(cfg.tls_cert, cfg.tls_key)
        # aiosmtpd would call socket.getfqdn() for every connection, on the event loop (a
        # DNS lookup: milliseconds, or seconds when the resolver is slow): once, off the loop.
        hostname = cfg.smtp_hostname or await asyncio.to_thread(socket.getfqdn)

        def factory() -> SMTP:
            return TolerantSMTP(
                self.handler,
                data_size_limit=cfg.max_message_bytes,
                enable_SMTPUTF8=True,
                decode_data=False,
                hostname=hostname,
                ident="Guichet ESMTP",
                tls_context=context,
                require_starttls=False,
                auth_exclude_mechanism=("LOGIN", "PLAIN"),  # nobody authenticates here (504)
            )

        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(factory, host=cfg.smtp_host, port=cfg.smtp_port)
        log.info("SMTP listener on %s:%s", cfg.smtp_host, self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
