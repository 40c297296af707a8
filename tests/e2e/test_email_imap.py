"""Acceptance 2 of issue 8, end to end: a real ``guichet serve`` reading a real
Dovecot INBOX on loopback, replying through a local SMTP sink.

A mail APPENDed to the INBOX becomes a conversation; the reply is captured by the
sink with threading headers that point at the customer's mail; the customer's
answer, written by another mail program that rewrites ``References`` (keeps only
the last id, or reorders them and points ``In-Reply-To`` elsewhere), lands in the
same conversation; restarts (graceful and SIGKILL) and flag changes on the server
import nothing twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from channels.email.imap_config import KEYWORD
from tests.e2e.server import GuichetServer
from tests.support.dovecot import Dovecot
from tests.support.mail_core import make_mail
from tests.support.smtp_sink import Received, SmtpSink

pytestmark = pytest.mark.e2e

SUPPORT = "support@guichet.test"
ALICE = "Alice Martin <alice@example.org>"


def rows(server: GuichetServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.workdir / "data" / "guichet.db") as conn:
        return conn.execute(sql).fetchall()


async def until(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Wait for a condition (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.2)


def bare(header: object) -> str:
    return str(header).strip().strip("<>")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot().start()
    server.add_user("support", "s3cret")
    yield server
    server.stop()


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    relay = SmtpSink().start()
    yield relay
    relay.stop()


def inbound(server: GuichetServer) -> list[tuple[Any, ...]]:
    return rows(
        server,
        "SELECT message_id, source, status, conversation_id FROM mail_inbound ORDER BY id",
    )


async def test_imap_mail_threads_replies_and_survives_restarts(
    tmp_path: Path, dovecot: Dovecot, sink: SmtpSink
) -> None:
    server = GuichetServer(
        tmp_path,
        embedder="hash",
        GUICHET_EMAIL_ENABLED="true",
        GUICHET_EMAIL_ADDRESSES=SUPPORT,
        GUICHET_EMAIL_SMTP_LISTEN="false",  # mail comes in by IMAP only
        GUICHET_EMAIL_RELAY_PORT=str(sink.port),
        GUICHET_EMAIL_IMAP_MAILBOXES=dovecot.url("support"),
        GUICHET_EMAIL_IMAP_BACKOFF_BASE="0.2",
        GUICHET_EMAIL_IMAP_BACKOFF_MAX="1",
    )
    # In the mailbox before Guichet is connected: never imported (no replies to old mail).
    dovecot.append(
        "support", make_mail("An old question from last year", sender=ALICE, message_id="old@example.org")
    )
    server.start()
    try:
        # the mailbox's first connection takes its baseline: from then on, mail is imported
        await until(lambda: rows(server, "SELECT count(*) FROM imap_positions") == [(1,)], "first connection")
        # 1. a mail APPENDed to the INBOX becomes a conversation, and is marked once stored
        first_id = "first@example.org"
        uid = dovecot.append(
            "support",
            make_mail(
                "I want to talk to a person about my bill",
                sender=ALICE,
                subject="My bill",
                message_id=first_id,
            ),
        )
        await until(lambda: [r[:3] for r in inbound(server)] == [(first_id, "imap", "processed")], "imported")
        conversation = inbound(server)[0][3]
        assert conversation is not None
        await until(lambda: {"\\Seen", KEYWORD} <= dovecot.flags("support", uid), "marked on the server")

        # 2. the reply (the bot hands over to a person and says so) goes out with threading headers
        await until(lambda: len(sink.messages) >= 1, "the reply at the relay")
        reply: Received = sink.messages[0]
        msg = reply.message
        assert reply.rcpt_tos == ["alice@example.org"]
        assert bare(msg["In-Reply-To"]) == first_id
        assert first_id in [bare(r) for r in str(msg["References"]).split()]
        ours = bare(msg["Message-ID"])
        assert ours and "[#G-" in str(msg["Subject"])  # the ticket number
        assert str(msg["Reply-To"]).lower().startswith("support+")  # the plus-address token
        assert rows(server, f"SELECT count(*) FROM mail_outbound WHERE rfc_message_id = '{ours}'") == [(1,)]

        # 3. the customer's answer from a mail program that keeps only the last id in References
        answer_id = make_msgid(domain="example.org").strip("<>")
        dovecot.append(
            "support",
            make_mail(
                "Thanks, it is invoice 2024-118.",
                sender=ALICE,
                subject=f"Re: {msg['Subject']}",
                message_id=answer_id,
                references=[ours],  # the original id dropped, no In-Reply-To
            ),
        )
        # ... and a second one from another program that reorders them and points
        # In-Reply-To at a message we never saw
        second_id = make_msgid(domain="example.org").strip("<>")
        dovecot.append(
            "support",
            make_mail(
                "Also, my address changed.",
                sender=ALICE,
                subject="Re: My bill",
                message_id=second_id,
                in_reply_to="elsewhere@mua.example",
                references=[ours, "elsewhere@mua.example", first_id],
            ),
        )
        await until(
            lambda: len(inbound(server)) == 3 and all(r[2] == "processed" for r in inbound(server)), "answers"
        )
        assert [(r[0], r[3]) for r in inbound(server)] == [
            (first_id, conversation),
            (answer_id, conversation),
            (second_id, conversation),
        ]
        assert rows(
            server, "SELECT count(DISTINCT conversation_id) FROM messages WHERE direction = 'in'"
        ) == [(1,)]

        # 4. the customer is erased (GDPR): the conversation's messages are gone, but the
        # mail is still in the IMAP folder; then a person changes flags on the server
        [(customer,)] = rows(server, f"SELECT customer_id FROM conversations WHERE id = {conversation}")
        done = server.cli("customer", "erase", str(customer), "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        left = inbound(server)
        assert rows(server, "SELECT count(*) FROM messages") == [(0,)]  # the conversation's messages are gone
        for u in dovecot.uids("support"):
            dovecot.store("support", u, "-FLAGS", f"\\Seen {KEYWORD}")
        dovecot.store("support", uid, "+FLAGS", "\\Flagged")

        # 5. a graceful restart, then a crash (SIGKILL): nothing imported twice
        server.stop()
        server.start()
        after_restart = "after-restart@example.org"
        dovecot.append("support", make_mail("One more thing", sender=ALICE, message_id=after_restart))
        await until(lambda: len(inbound(server)) >= len(left) + 1, "mail sent after the restart")
        server.kill()
        server.start()
        after_crash = "after-crash@example.org"
        dovecot.append("support", make_mail("And another", sender=ALICE, message_id=after_crash))
        # the reader imports in UID order: once this one is in, any re-import would have happened
        await until(lambda: len(inbound(server)) >= len(left) + 2, "mail sent after the crash")
        # nothing that was there before came back: the erased mail was not imported again
        assert inbound(server)[: len(left)] == left
        assert [r[0] for r in inbound(server)[len(left) :]] == [after_restart, after_crash]
        assert rows(server, "SELECT count(*) FROM mail_inbound WHERE message_id = 'old@example.org'") == [
            (0,)
        ]
        assert rows(server, "SELECT count(*) FROM imap_positions") == [(1,)]
    finally:
        server.stop()
