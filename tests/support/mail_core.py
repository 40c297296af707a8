"""A whole core with the email channel and a sink relay, without the web app:
store, router (with the email threshold), outbox, the mail ingest job, a
controllable clock.  Used by the mail room's tests and the SMTP tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from channels.email.channel import EmailChannel
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.flow.bus import InProcessEventBus
from gateway.flow.channel_context import ChannelContext
from gateway.flow.jobs import JobRunner
from gateway.flow.outbox import Outbox
from gateway.flow.router import Router
from gateway.flow.store import SqlStore
from gateway.mail.ingest import INGEST_JOB, IngestResult, ingest_raw
from gateway.mail.processing import IngestJob
from gateway.mail.service import MailService
from gateway.protocols import Hit, SearchResult
from tests.support.smtp_sink import SmtpSink

SUPPORT = "support@guichet.test"
_ids = itertools.count(1)


@dataclass
class KeywordRetriever:
    """The article of the first keyword found in the text, with its confidence."""

    table: dict[str, tuple[str, float]] = field(default_factory=dict)

    async def search(self, text: str, k: int = 5) -> SearchResult:
        for key, (article, confidence) in self.table.items():
            if key in text.lower():
                hit = Hit(article, f"Title {article}", f"Answer of {article}.", confidence)
                return SearchResult((hit,), confidence, "v-test")
        return SearchResult((Hit("unrelated", "Unrelated", "Nothing.", 0.1),), 0.1, "v-test")


def mail_settings(settings: Settings, sink_port: int) -> Settings:
    settings.email.enabled = True
    settings.email.addresses = [SUPPORT]
    settings.email.smtp_listen = False
    settings.email.relay_host = "127.0.0.1"
    settings.email.relay_port = sink_port
    settings.email.relay_timeout = 5.0
    return settings


def make_mail(
    body: str = "Hello, I cannot reset my password.",
    *,
    sender: str = "Alice Martin <alice@example.org>",
    to: str = SUPPORT,
    cc: str | None = None,
    subject: str = "Password problem",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    mid = message_id or f"m{next(_ids)}.{datetime.now(UTC).timestamp()}@example.org"
    fields: dict[str, str | None] = {
        "From": sender,
        "To": to,
        "Cc": cc,
        "Subject": subject,
        "Message-ID": f"<{mid}>",
        "Date": format_datetime(datetime.now(UTC)),
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
        "In-Reply-To": f"<{in_reply_to}>" if in_reply_to else None,
        "References": " ".join(f"<{r}>" for r in references) or None,
    }
    fields.update(headers or {})
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return (head + "\r\n" + body.replace("\n", "\r\n") + "\r\n").encode("utf-8")


@dataclass
class MailCore:
    settings: Settings
    store: SqlStore
    mail: MailService
    runner: JobRunner
    channel: EmailChannel
    sink: SmtpSink
    clock: FakeClock
    retriever: KeywordRetriever
    refs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def drain(self) -> int:
        return await self.runner.run_once()

    async def receive(
        self, raw: bytes, *, envelope_to: Sequence[str] = (SUPPORT,), drain: bool = True
    ) -> IngestResult:
        result = await ingest_raw(
            self.mail, raw, source="smtp", source_ref=f"test:{next(self.refs)}", envelope_to=list(envelope_to)
        )
        if drain:
            await self.drain()
        return result


async def build_core(settings: Settings, sink: SmtpSink) -> tuple[MailCore, object]:
    mail_settings(settings, sink.port)
    clock = FakeClock(datetime.now(UTC))
    engine = make_engine(settings.database_url)
    bus = InProcessEventBus()
    store = SqlStore(make_session_factory(engine), clock, settings, bus)
    retriever = KeywordRetriever({"password": ("reset-password", 0.95), "invoice": ("invoices", 0.8)})
    mail = MailService(store, settings, clock, b"test-secret")
    ctx = ChannelContext(
        settings=settings, clock=clock, bus=bus, secret_key=b"test-secret", history=store.history
    )
    channel = EmailChannel(ctx)
    channel.bind_mail(mail)
    router = Router(store, retriever, settings,
                    channel_thresholds={"email": settings.email.answer_threshold})
    outbox = Outbox(store, {"email": channel})
    ingest = IngestJob(mail)
    runner = JobRunner(
        store,
        {"route": router.handle, "send": outbox.handle, INGEST_JOB: ingest.handle},
        settings.jobs,
        dead_handlers={"route": router.on_dead, "send": outbox.on_dead, INGEST_JOB: ingest.on_dead},
    )
    await channel.start(store.accept_inbound)
    return MailCore(settings, store, mail, runner, channel, sink, clock, retriever), engine
