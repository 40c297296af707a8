"""SMTP's 250 comes after the commit: SIGKILL `guichet serve` right after a 250,
restart, and the message is there and gets processed (and answered once)."""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import GuichetServer
from tests.support.mail_core import make_mail
from tests.support.services import free_port
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.e2e


def db_rows(server: GuichetServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.workdir / "data" / "guichet.db") as conn:
        return conn.execute(sql).fetchall()


def email_server(tmp_path: Path, sink: SmtpSink) -> tuple[GuichetServer, int]:
    smtp_port = free_port()
    server = GuichetServer(
        tmp_path,
        embedder="hash",
        GUICHET_EMAIL_ENABLED="true",
        GUICHET_EMAIL_ADDRESSES="support@guichet.test",
        GUICHET_EMAIL_SMTP_PORT=str(smtp_port),
        GUICHET_EMAIL_RELAY_PORT=str(sink.port),
    )
    return server, smtp_port


async def test_sigkill_right_after_250_loses_nothing(tmp_path: Path) -> None:
    sink = SmtpSink().start()
    server, smtp_port = email_server(tmp_path, sink)
    server.start(GUICHET_JOBS_WORKERS="0")  # nothing processes it in the first life
    try:
        raw = make_mail("I want to talk to a person about my bill", message_id="crash@example.org")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.ehlo()
            client.mail("alice@example.org")
            client.rcpt("support@guichet.test")
            code, reply = client.data(raw)
            server.kill()  # right after the 250
        assert code == 250, reply
    finally:
        server.kill()
    assert db_rows(server, "SELECT message_id, status FROM mail_inbound") == [
        ("crash@example.org", "received")
    ]
    assert db_rows(server, "SELECT kind, status FROM jobs") == [("mail_ingest", "queued")]

    server.start()  # second life: the job runs
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if db_rows(server, "SELECT status FROM mail_inbound") == [("processed",)] and sink.messages:
                break
            await asyncio.sleep(0.2)
        assert db_rows(server, "SELECT status, mail_class FROM mail_inbound") == [("processed", "customer")]
        [got] = sink.wait_for(1)
        assert got.message["In-Reply-To"] == "<crash@example.org>" and "[#G-" in got.message["Subject"]
        # the same message sent again (the client never saw the 250) is stored once
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail("alice@example.org", ["support@guichet.test"], raw)
        await asyncio.sleep(1.0)
        assert db_rows(server, "SELECT count(*) FROM mail_inbound") == [(1,)]
        assert db_rows(server, "SELECT count(*) FROM messages WHERE direction = 'in'") == [(1,)]
        assert len(sink.messages) == 1
    finally:
        server.stop()
        sink.stop()
