"""The mail room's handle: what its modules share (store, settings, clock, the
parser the email channel plugs in).  Built by :func:`gateway.mail.wiring.setup_mail`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from gateway.clock import Clock
from gateway.config import EmailSettings, Settings
from gateway.flow.store import SqlStore
from gateway.mail.addresses import OwnAddresses
from gateway.mail.contracts import MailParser
from gateway.mail.smtp_pause import SmtpPause


@dataclass
class MailService:
    store: SqlStore
    settings: Settings
    clock: Clock
    secret: bytes
    parser: MailParser | None = None  # plugged in by the email channel (bind_mail)
    own: OwnAddresses = field(init=False)
    smtp: SmtpPause = field(default_factory=SmtpPause)  # background processing waits for a pause
    accepts: object = field(default=None, init=False, repr=False)  # ingest.AcceptBatch, made on first use

    def __post_init__(self) -> None:
        self.own = OwnAddresses(self.settings.email.addresses)

    @property
    def cfg(self) -> EmailSettings:
        return self.settings.email

    @property
    def id_domain(self) -> str:
        return self.cfg.message_id_domain or self.own.primary.rpartition("@")[2] or "localhost"

    def note_smtp(self) -> None:
        """An SMTP transaction is under way (the listener calls this at MAIL and DATA)."""
        self.smtp.note()

    def sign(self, purpose: str, value: str, length: int = 20) -> str:
        """A deterministic, unguessable tag for ``value`` (the server's secret)."""
        mac = hmac.new(self.secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
        return mac[:length]
