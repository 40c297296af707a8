from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gateway.config import Settings
from tests.support.mail_core import MailCore, build_core
from tests.support.smtp_sink import SmtpSink


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
async def mc(migrated: Settings, sink: SmtpSink) -> AsyncIterator[MailCore]:
    core, engine = await build_core(migrated, sink)
    yield core
    await core.channel.stop()
    await engine.dispose()  # type: ignore[attr-defined]
