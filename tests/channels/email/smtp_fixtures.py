"""A mail core with its SMTP listener on a free loopback port (shared by the SMTP tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from channels.email.smtp_in import SmtpListener
from gateway.config import Settings
from tests.support.mail_core import MailCore, build_core
from tests.support.services import free_port
from tests.support.smtp_sink import SmtpSink


@dataclass
class Listening:
    mc: MailCore
    port: int


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
async def listening(migrated: Settings, sink: SmtpSink) -> AsyncIterator[Listening]:
    mc, engine = await build_core(migrated, sink)
    mc.settings.email.smtp_port = free_port()
    listener = SmtpListener(mc.mail)
    await listener.start()
    yield Listening(mc, listener.port)
    await listener.stop()
    await engine.dispose()  # type: ignore[attr-defined]
