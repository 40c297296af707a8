"""Sending through the configured relay (aiosmtplib): the relay's answer per
recipient.  A connection problem or a 4xx for the whole message is temporary
(:class:`RelayTemporary`); a 5xx for the whole message is permanent."""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from gateway.config import EmailSettings


class RelayTemporary(Exception):
    """Try again later (relay down, 4xx)."""


class RelayPermanent(Exception):
    """The relay refused the message for good (5xx)."""


@dataclass(frozen=True, slots=True)
class RelayConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    security: str = "none"  # none | starttls | tls
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, cfg: EmailSettings) -> RelayConfig:
        return cls(
            cfg.relay_host,
            cfg.relay_port,
            cfg.relay_username,
            cfg.relay_password,
            cfg.relay_security,
            cfg.relay_timeout,
        )


_local_hostname: str | None = None


async def local_hostname() -> str:
    """This machine's name for EHLO, looked up once (aiosmtplib would resolve it in a
    thread for every connection)."""
    global _local_hostname
    if _local_hostname is None:
        _local_hostname = await asyncio.to_thread(socket.getfqdn)
    return _local_hostname


async def deliver(
    relay: RelayConfig, message: EmailMessage | bytes, sender: str, recipients: list[str]
) -> dict[str, tuple[int, str]]:
    """Send to ``recipients``; returns the refused ones ``{address: (code, text)}``
    (an empty dict: every recipient accepted with 250).  ``message`` may be given
    already serialised (the channel renders it off the event loop)."""
    tls = relay.security == "tls"
    client = aiosmtplib.SMTP(
        hostname=relay.host,
        port=relay.port,
        timeout=relay.timeout,
        use_tls=tls,
        start_tls=relay.security == "starttls",
        tls_context=ssl.create_default_context() if relay.security in ("tls", "starttls") else None,
        local_hostname=await local_hostname(),
    )
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise RelayTemporary(f"relay {relay.host}:{relay.port} unreachable: {exc}") from exc
    try:
        if relay.username:
            await client.login(relay.username, relay.password)
        data = message if isinstance(message, bytes) else message.as_bytes()
        refused, _reply = await client.sendmail(sender, recipients, data)
        return {addr: (resp.code, resp.message) for addr, resp in refused.items()}
    except aiosmtplib.SMTPRecipientsRefused as exc:
        return {r.recipient: (r.code, r.message) for r in exc.recipients}
    except aiosmtplib.SMTPResponseException as exc:
        text = f"relay answered {exc.code} {exc.message}"
        if 400 <= exc.code < 500:
            raise RelayTemporary(text) from exc
        raise RelayPermanent(text) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise RelayTemporary(f"relay connection failed: {exc}") from exc
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
