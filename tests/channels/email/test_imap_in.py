"""The IMAP reader against a real Dovecot on loopback, with a stand-in ingest that
records what it was given (the real one is exercised in tests/e2e/test_email_imap.py).

What a user would notice: old mail in a newly connected mailbox is not answered;
new mail is imported once, whatever happens to flags, to the process or to the
server; the mail is marked on the server only once it is safely stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from channels.email.imap_config import KEYWORD, TOO_LARGE, UNREADABLE, MailboxConfig, parse_mailbox_url
from channels.email.imap_in import ImapOptions, ImapService
from channels.email.imap_session import ImapSession
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.migrate import upgrade_async
from gateway.mail.imap_state import ImapPositions
from tests.support import dovecot as dovecot_support
from tests.support import services
from tests.support.dovecot import Dovecot

pytestmark = pytest.mark.e2e

FAST = ImapOptions(poll_interval=0.1, idle_refresh=30.0, timeout=10.0, backoff_base=0.05, backoff_max=0.2)
_MSGID = re.compile(rb"^Message-ID: <([^>]+)>", re.M | re.I)


def mail(n: int, subject: str = "Help") -> bytes:
    return (
        f"From: Customer {n} <c{n}@example.net>\r\nTo: support@example.org\r\n"
        f"Subject: {subject} {n}\r\nMessage-ID: <m{n}@example.net>\r\n"
        "Date: Thu, 3 Dec 2026 10:00:00 +0000\r\n"
        f"\r\nMessage number {n}.\r\n"
    ).encode()


class FakeIngest:
    """Like ``gateway.mail.ingest.ingest_raw``: stores once per source_ref and per
    Message-ID; can be held (to look at the server meanwhile) or made to fail."""

    def __init__(self) -> None:
        self.calls: list[str] = []  # every source_ref it was called with
        self.stored: dict[str, bytes] = {}  # source_ref -> raw, stored once
        self.message_ids: set[bytes] = set()
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.failures = 0

    async def __call__(self, raw: bytes, *, source: str, source_ref: str) -> object:
        assert source == "imap"
        self.calls.append(source_ref)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")
        found = _MSGID.search(raw)
        mid = found.group(1) if found else None
        if source_ref in self.stored or (mid is not None and mid in self.message_ids):
            return "duplicate"
        self.stored[source_ref] = raw
        if mid is not None:
            self.message_ids.add(mid)
        return "stored"

    def numbers(self) -> list[int]:
        """The stored messages' numbers (``Message number N``), in import order."""
        return [int(re.search(rb"Message number (\d+)", raw).group(1)) for raw in self.stored.values()]  # type: ignore[union-attr]


async def until(predicate: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    """Wait for something to become true (a deadline, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot().start()
    yield server
    server.stop()


_users = iter(range(1, 10_000))


@pytest.fixture
def user(dovecot: Dovecot) -> str:
    name = f"support{next(_users)}"
    dovecot.add_user(name, f"pw-{name}")
    return name


@pytest.fixture
async def positions(settings: Settings) -> AsyncIterator[ImapPositions]:
    await upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    yield ImapPositions(make_session_factory(engine), SystemClock())
    await engine.dispose()


class Running:
    """Start and stop services like the app does (a restart is a new service)."""

    def __init__(self, positions: ImapPositions, ingest: FakeIngest) -> None:
        self.positions, self.ingest = positions, ingest
        self.services: list[ImapService] = []

    async def start(
        self, *boxes: MailboxConfig, options: ImapOptions = FAST, connect=ImapSession.open
    ) -> ImapService:  # type: ignore[no-untyped-def]
        service = ImapService(
            list(boxes), self.positions, self.ingest, SystemClock(), options, connect=connect
        )
        await service.start()
        self.services.append(service)
        await until(lambda: all(r.status.state in ("idle", "polling") for r in service.readers), "first sync")
        return service

    async def stop_all(self) -> None:
        for service in self.services:
            await service.stop()


@pytest.fixture
async def run(positions: ImapPositions) -> AsyncIterator[Running]:
    running = Running(positions, FakeIngest())
    yield running
    await running.stop_all()


def box(dovecot: Dovecot, user: str, **query: str) -> MailboxConfig:
    return parse_mailbox_url(dovecot.url(user, **query))


# ------------------------------------------------------------------ the tests


async def test_a_new_mailbox_imports_only_new_mail_and_marks_it_after_import(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    old = dovecot.append(user, mail(1))  # there before Guichet is connected: never answered
    service = await run.start(box(dovecot, user))
    new = dovecot.append(user, mail(2))
    await until(lambda: run.ingest.numbers() == [2], "the new mail imported")
    ref = run.ingest.calls[0]
    assert ref.startswith(f"imap:{user}@127.0.0.1/INBOX:") and ref.endswith(f":{new}")
    await until(lambda: {"\\Seen", KEYWORD} <= dovecot.flags(user, new), "the new mail marked")
    assert dovecot.flags(user, old) == set()  # the old one untouched
    assert service.readers[0].status.imported == 1
    assert service.readers[0].status.state == "idle"  # Dovecot offers IDLE


async def test_import_existing_takes_the_mail_already_there(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    dovecot.append(user, mail(1))
    dovecot.append(user, mail(2))
    await run.start(box(dovecot, user, import_existing="true", after_import="keyword"))
    await until(lambda: run.ingest.numbers() == [1, 2], "both imported, in order")
    uids = dovecot.uids(user)
    await until(lambda: all(KEYWORD in dovecot.flags(user, u) for u in uids), "both marked")
    assert all("\\Seen" not in dovecot.flags(user, u) for u in uids)  # keyword only: still unread


async def test_a_restart_imports_nothing_twice_and_picks_up_what_came_meanwhile(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    first = await run.start(box(dovecot, user))
    dovecot.append(user, mail(1))
    await until(lambda: run.ingest.numbers() == [1], "first mail")
    await first.stop()
    dovecot.append(user, mail(2))  # arrives while Guichet is down
    # the person reading the mailbox marks the imported mail unread again, and drops our keyword
    dovecot.store(user, dovecot.uids(user)[0], "-FLAGS", f"\\Seen {KEYWORD}")
    await run.start(box(dovecot, user))
    await until(lambda: run.ingest.numbers() == [1, 2], "the mail that came while down")
    dovecot.append(user, mail(3))
    await until(lambda: run.ingest.numbers() == [1, 2, 3], "later mail")
    assert len(run.ingest.calls) == 3  # each message handed over once, none again


async def test_flag_changes_on_the_server_do_not_import_again(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    await run.start(box(dovecot, user))
    uid = dovecot.append(user, mail(1))
    await until(lambda: KEYWORD in dovecot.flags(user, uid), "imported and marked")
    for op, flags in (
        ("-FLAGS", "\\Seen"),
        ("-FLAGS", KEYWORD),
        ("+FLAGS", "\\Flagged $Label1"),
        ("+FLAGS", "\\Seen"),
    ):
        dovecot.store(user, uid, op, flags)  # each change is pushed to the IDLE-ing reader
    dovecot.append(user, mail(2))
    await until(lambda: run.ingest.numbers() == [1, 2], "the next mail")
    assert len(run.ingest.calls) == 2


async def test_the_server_is_marked_only_after_the_ingest_returned(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    run.ingest.gate = asyncio.Event()
    await run.start(box(dovecot, user))
    uid = dovecot.append(user, mail(1))
    await asyncio.wait_for(run.ingest.entered.wait(), 20)
    assert dovecot.flags(user, uid) == set()  # being stored: not marked, not even \Seen by the fetch
    run.ingest.gate.set()
    await until(lambda: {"\\Seen", KEYWORD} <= dovecot.flags(user, uid), "marked once stored")


async def test_a_failed_ingest_is_retried_and_the_mail_not_marked_meanwhile(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    run.ingest.failures = 2
    service = await run.start(box(dovecot, user))
    uid = dovecot.append(user, mail(1))
    await until(lambda: run.ingest.numbers() == [1], "stored on the third try")
    assert len(run.ingest.calls) == 3
    assert "database unavailable" in service.readers[0].status.last_error
    await until(lambda: KEYWORD in dovecot.flags(user, uid), "marked after the successful try")


async def test_mail_over_the_size_limit_stays_in_the_mailbox_flagged(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    service = await run.start(box(dovecot, user), options=dataclasses.replace(FAST, max_message_bytes=2000))
    big = dovecot.append(
        user, mail(1).replace(b"Message number 1.", b"Message number 1." + b" padding" * 500)
    )
    small = dovecot.append(user, mail(2))
    await until(lambda: run.ingest.numbers() == [2], "the small one imported, the big one skipped")
    assert dovecot.flags(user, big) == {TOO_LARGE}  # unread, flagged for a person
    assert service.readers[0].status.left == 1
    await until(lambda: KEYWORD in dovecot.flags(user, small), "the small one marked")


async def test_a_message_the_server_sends_no_body_for_is_not_skipped_silently(
    dovecot: Dovecot, user: str, run: Running
) -> None:
    class NoBodyForFirst(ImapSession):
        async def fetch(self, uid: int) -> bytes | None:
            return None if uid == 1 else await super().fetch(uid)

    service = await run.start(box(dovecot, user), connect=NoBodyForFirst.open)
    first = dovecot.append(user, mail(1))
    dovecot.append(user, mail(2))
    await until(lambda: run.ingest.numbers() == [2], "the next one imported")
    assert first == 1 and dovecot.flags(user, first) == {UNREADABLE}  # left unread, flagged for a person
    assert service.readers[0].status.left == 1


async def test_several_mailboxes_at_once(dovecot: Dovecot, run: Running) -> None:
    a, b = "sales", "billing"
    dovecot.add_user(a, "pa")
    dovecot.add_user(b, "pb")
    await run.start(box(dovecot, a), box(dovecot, b))
    dovecot.append(a, mail(1))
    dovecot.append(b, mail(2))
    await until(lambda: sorted(run.ingest.numbers()) == [1, 2], "one from each")
    assert {ref.split(":")[1] for ref in run.ingest.calls} == {
        "sales@127.0.0.1/INBOX",
        "billing@127.0.0.1/INBOX",
    }


async def test_move_after_import(dovecot: Dovecot, user: str, run: Running) -> None:
    dovecot.create_folder(user, "Trait&AOk-s")  # "Traités" as IMAP spells it (modified UTF-7)
    await run.start(box(dovecot, user, after_import="move:Traités"))
    dovecot.append(user, mail(1))
    await until(lambda: run.ingest.numbers() == [1], "imported")
    await until(lambda: dovecot.uids(user) == [], "gone from the INBOX")
    assert len(dovecot.uids(user, "Trait&AOk-s")) == 1


async def test_polling_when_the_server_has_no_idle(dovecot: Dovecot, user: str, run: Running) -> None:
    class NoIdle(ImapSession):
        def can_idle(self) -> bool:
            return False

    service = await run.start(box(dovecot, user), connect=NoIdle.open)
    assert service.readers[0].status.state == "polling"
    dovecot.append(user, mail(1))
    dovecot.append(user, mail(2))
    await until(lambda: run.ingest.numbers() == [1, 2], "found by polling")


async def test_a_wrong_password_is_reported_and_retried(dovecot: Dovecot, user: str, run: Running) -> None:
    wrong = parse_mailbox_url(dovecot.url(user).replace(f"pw-{user}", "nope"))
    service = ImapService([wrong], run.positions, run.ingest, SystemClock(), FAST)
    await service.start()
    run.services.append(service)
    reader = service.readers[0]
    await until(lambda: reader.status.failures >= 2, "two refused logins")
    assert "login refused" in reader.status.last_error and "nope" not in reader.status.last_error
    assert run.ingest.calls == []


async def test_stop_ends_idle_and_logs_out(dovecot: Dovecot, user: str, run: Running) -> None:
    service = await run.start(box(dovecot, user))
    await service.stop()
    assert service.readers[0].status.state == "stopped"
    await until(
        lambda: f"imap({user})" in dovecot.log() and "Logged out" in _session_end(dovecot, user), "log"
    )


def _session_end(dovecot: Dovecot, user: str) -> str:
    lines = [
        line for line in dovecot.log().splitlines() if f"imap({user})" in line and "Disconnected" in line
    ]
    return lines[-1] if lines else ""


# ------------------------------------------------------------ server restarts


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    server = Dovecot().start()
    server.add_user("support", "secret")
    yield server
    server.stop()


async def test_reconnects_after_the_server_went_away(own_dovecot: Dovecot, run: Running) -> None:
    service = await run.start(box(own_dovecot, "support"))
    own_dovecot.append("support", mail(1))
    await until(lambda: run.ingest.numbers() == [1], "before")
    await asyncio.to_thread(own_dovecot.stop, keep=True)
    reader = service.readers[0]
    await until(lambda: reader.status.state == "retrying", "noticed the server is gone")
    own_dovecot.start()
    own_dovecot.append("support", mail(2))
    await until(lambda: run.ingest.numbers() == [1, 2], "after the server came back")
    assert len(run.ingest.calls) == 2


async def test_a_uidvalidity_change_imports_only_new_mail(
    own_dovecot: Dovecot, run: Running, tmp_path: Path
) -> None:
    service = await run.start(box(own_dovecot, "support"))
    own_dovecot.append("support", mail(1))
    own_dovecot.append("support", mail(2))
    await until(lambda: run.ingest.numbers() == [1, 2], "imported before the rebuild")
    await service.stop()
    own_dovecot.stop(keep=True)
    own_dovecot.reset_uidvalidity("support")  # the server forgot its UIDs: 1 and 2 come back as new UIDs
    own_dovecot.start()
    own_dovecot.append("support", mail(3))
    await run.start(box(own_dovecot, "support"))
    await until(lambda: run.ingest.numbers() == [1, 2, 3], "the mail that is really new")
    own_dovecot.append("support", mail(4))
    await until(lambda: run.ingest.numbers() == [1, 2, 3, 4], "and mail after the new baseline")
    # the old messages, flagged with our keyword by the first import, were not even handed over again
    assert len(run.ingest.calls) == 4


def test_without_dovecot_ci_fails_and_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dovecot_support, "DOVECOT", "/nonexistent/dovecot")
    monkeypatch.setattr(services, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        Dovecot()
    monkeypatch.setattr(services, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        Dovecot()
