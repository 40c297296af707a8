"""IMAP in: read one or more existing mailboxes and hand each new message to the
ingest, exactly once.

For each configured folder a :class:`MailboxReader` keeps one connection:

1. SELECT the folder; a folder never seen before gets its *baseline*: the mail
   already there is not imported (unless ``import_existing``), so connecting a
   mailbox full of old mail answers none of it.
2. Import every message above the stored position, in UID order: fetch it (without
   setting \\Seen), ``ingest(raw, source="imap", source_ref="imap:<mailbox>:<uidvalidity>:<uid>")``
   which returns once the raw message is committed, then move the position past it,
   then flag or move it on the server.  A crash anywhere re-imports at most the
   message in hand, and the ingest is idempotent on ``source_ref``.
3. Wait with IDLE when the server offers it (re-issued every ``idle_refresh``
   seconds), else poll every ``poll_interval`` seconds; then go to 2.

Flags, deleted conversations and mail read in another program never move the
position, so nothing comes back.  When the server's UIDVALIDITY changes (the
folder was rebuilt and its UIDs mean nothing any more) the reader looks only at mail
that arrived since the folder was last seen in sync, skips what carries our
keyword, relies on the ingest's Message-ID dedupe for the rest, and takes a new
baseline.  A broken connection is retried with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aioimaplib
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.email.imap_config import KEYWORD, TOO_LARGE, UNREADABLE, MailboxConfig, parse_mailboxes
from channels.email.imap_session import ImapError, ImapSession
from gateway.clock import Clock
from gateway.config import EmailSettings, Settings
from gateway.mail.imap_state import ImapPosition, ImapPositions
from gateway.mail.ingest import ingest_raw
from gateway.mail.service import MailService

log = logging.getLogger(__name__)

SOURCE = "imap"
REBASELINE_MARGIN = timedelta(minutes=10)  # mail delivered just before the last sync is looked at too
# A server or network problem: logged in one line and retried; anything else gets a traceback.
EXPECTED = (ImapError, aioimaplib.AioImapException, OSError, asyncio.TimeoutError)


class RawIngest(Protocol):
    """The core's ingest entry point, bound to its context: returns only after the
    raw message is committed; idempotent on ``source_ref``."""

    def __call__(self, raw: bytes, *, source: str, source_ref: str) -> Awaitable[object]: ...


@dataclass(frozen=True, slots=True)
class ImapOptions:
    poll_interval: float = 60.0
    idle_refresh: float = 1500.0
    timeout: float = 30.0
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    max_message_bytes: int = 0  # larger mail is not imported (flagged on the server); 0: no limit


@dataclass(slots=True)
class ReaderStatus:
    state: str = "starting"  # starting | connected | idle | polling | retrying | stopped
    last_error: str = ""
    last_sync_at: datetime | None = None
    imported: int = 0
    left: int = 0  # messages left in the mailbox, flagged: too large, or no body from the server
    failures: int = 0  # consecutive failed connections


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: between half and all of ``min(cap, base·2^attempt)``."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling / 2 + rand() * ceiling / 2


def source_ref(mailbox: str, uidvalidity: int, uid: int) -> str:
    return f"{SOURCE}:{mailbox}:{uidvalidity}:{uid}"


Connect = Callable[[MailboxConfig, float], Awaitable[ImapSession]]


class MailboxReader:
    """Reads one folder until :meth:`run`'s ``stop`` event is set."""

    def __init__(
        self,
        box: MailboxConfig,
        positions: ImapPositions,
        ingest: RawIngest,
        clock: Clock,
        options: ImapOptions,
        *,
        connect: Connect = ImapSession.open,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.box = box
        self.positions = positions
        self.ingest = ingest
        self.clock = clock
        self.options = options
        self.status = ReaderStatus()
        self._connect = connect
        self._rand = rand

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, import, wait, and reconnect with backoff, until ``stop``."""
        while not stop.is_set():
            session: ImapSession | None = None
            try:
                session = await self._connect(self.box, self.options.timeout)
                self.status.state = "connected"
                await self._serve(session, stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.status.failures += 1
                self.status.last_error = f"{type(exc).__name__}: {exc}"[:500]
                if isinstance(exc, EXPECTED):
                    log.warning("IMAP %s: %s", self.box, self.status.last_error)
                else:
                    log.exception("IMAP %s failed", self.box)
            finally:
                if session is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(session.close(), self.options.timeout)
            if stop.is_set():
                break
            self.status.state = "retrying"
            delay = backoff_delay(
                self.status.failures - 1, self.options.backoff_base, self.options.backoff_max, self._rand
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        self.status.state = "stopped"

    async def _serve(self, session: ImapSession, stop: asyncio.Event) -> None:
        last_uid = (await self._position(session)).last_uid
        while not stop.is_set():
            last_uid = await self.sync(session, last_uid, stop)
            if stop.is_set():
                return
            self.status.failures = 0  # a good session: the next failure starts the backoff over
            if session.can_idle():
                self.status.state = "idle"
                await session.idle(self.options.idle_refresh, stop)
            else:
                self.status.state = "polling"
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(session.lost.wait())]
                await asyncio.wait(
                    waits, timeout=self.options.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                for task in waits:
                    task.cancel()
                if session.lost.is_set() and not stop.is_set():
                    raise ConnectionError(f"{self.box}: connection lost")

    async def _position(self, session: ImapSession) -> ImapPosition:
        key = self.box.key
        position = await self.positions.get(key)
        if position is None:
            last = 0 if self.box.import_existing else session.uidnext - 1
            log.info("IMAP %s: new folder, importing mail from UID %d on", self.box, last + 1)
            return await self.positions.baseline(key, session.uidvalidity, last)
        if position.uidvalidity != session.uidvalidity:
            return await self._rebaseline(session, position)
        return position

    async def _rebaseline(self, session: ImapSession, old: ImapPosition) -> ImapPosition:
        """The folder's UIDs changed meaning: import only what arrived since it was
        last seen in sync and does not carry our keyword, then start over from here."""
        log.warning(
            "IMAP %s: UIDVALIDITY changed (%d -> %d); looking at mail since %s only",
            self.box,
            old.uidvalidity,
            session.uidvalidity,
            old.synced_at.isoformat(),
        )
        limit = session.uidnext - 1
        cutoff = old.synced_at - REBASELINE_MARGIN
        candidates = [u for u in await session.uids_since(cutoff.date()) if u <= limit]
        metas = await session.metas(candidates)
        for uid in candidates:
            meta = metas.get(uid)
            if meta is None or KEYWORD in meta.flags:
                continue
            if meta.internaldate is not None and meta.internaldate < cutoff:
                continue
            if meta.size > self.options.max_message_bytes > 0:
                self.status.left += 1
                await session.flag_left(uid, TOO_LARGE)
                continue
            await self._import(session, session.uidvalidity, uid, advance=False)
        return await self.positions.baseline(self.box.key, session.uidvalidity, limit)

    async def sync(self, session: ImapSession, last_uid: int, stop: asyncio.Event) -> int:
        """Import everything above ``last_uid``, again until nothing is new; returns
        the new last UID."""
        session.new_mail_announced()  # what was announced before this search is found by it
        while not stop.is_set():
            uids = await session.uids_after(last_uid)
            if not uids and not session.new_mail_announced():
                break
            limit = self.options.max_message_bytes
            sizes = {u: m.size for u, m in (await session.metas(uids)).items()} if limit else {}
            for uid in uids:
                if stop.is_set():
                    return last_uid
                if sizes.get(uid, 0) > limit > 0:
                    await self._leave(
                        session, uid, TOO_LARGE, f"{sizes[uid]} bytes, over email.max_message_bytes"
                    )
                else:
                    await self._import(session, session.uidvalidity, uid, advance=True)
                last_uid = uid
        if not stop.is_set():
            await self.positions.mark_synced(self.box.key, session.uidvalidity)
            self.status.last_sync_at = self.clock.now()
        return last_uid

    async def _leave(self, session: ImapSession, uid: int, keyword: str, why: str) -> None:
        """Like the SMTP listener's refusal, but the mail stays in the mailbox, unread
        and flagged, for a person to deal with; the reader goes on with the next one."""
        log.warning(
            "IMAP %s: UID %d not imported (%s); left in the mailbox, flagged %s", self.box, uid, why, keyword
        )
        self.status.left += 1
        await self.positions.advance(self.box.key, session.uidvalidity, uid)
        await session.flag_left(uid, keyword)

    async def _import(self, session: ImapSession, uidvalidity: int, uid: int, *, advance: bool) -> None:
        raw = await session.fetch(uid)
        if raw is None and uid in await session.metas([uid]):  # there, yet no body came: never skip silently
            if advance:
                await self._leave(session, uid, UNREADABLE, "the server sent no message body")
            else:
                await session.flag_left(uid, UNREADABLE)
            return
        if raw is not None:  # None: expunged since the search, nothing to import
            await self.ingest(raw, source=SOURCE, source_ref=source_ref(self.box.key, uidvalidity, uid))
            self.status.imported += 1
        if advance:
            await self.positions.advance(self.box.key, uidvalidity, uid)
        if raw is not None:  # only now that the message is committed
            await session.mark(uid, self.box.after_import)


class ImapService:
    """All the configured folders, one reader task each; a ``cleanup_ctx`` service."""

    def __init__(
        self,
        boxes: Sequence[MailboxConfig],
        positions: ImapPositions,
        ingest: RawIngest,
        clock: Clock,
        options: ImapOptions,
        *,
        connect: Connect = ImapSession.open,
    ) -> None:
        self.readers = [MailboxReader(b, positions, ingest, clock, options, connect=connect) for b in boxes]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._timeout = options.timeout

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(r.run(self._stop), name=f"imap-{r.box.key}") for r in self.readers]

    async def stop(self) -> None:
        """Leave IDLE (DONE), LOGOUT, and wait for the readers; a message being
        imported is finished first (bounded by the timeout)."""
        self._stop.set()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=self._timeout + 5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def status(self) -> dict[str, ReaderStatus]:
        return {r.box.key: r.status for r in self.readers}


def imap_service(
    email: EmailSettings, positions: ImapPositions, ingest: RawIngest, clock: Clock
) -> ImapService | None:
    """The service for ``email.imap_mailboxes``; None when there is none.  A wrong
    URL or option raises :class:`~channels.email.imap_config.MailboxConfigError` at
    start-up, never later."""
    if not email.imap_mailboxes:
        return None
    boxes = parse_mailboxes(
        email.imap_mailboxes, import_existing=email.imap_import_existing, after_import=email.imap_after_import
    )
    options = ImapOptions(
        poll_interval=email.imap_poll_interval,
        idle_refresh=email.imap_idle_refresh,
        timeout=email.imap_timeout,
        backoff_base=email.imap_backoff_base,
        backoff_max=email.imap_backoff_max,
        max_message_bytes=email.max_message_bytes,
    )
    return ImapService(boxes, positions, ingest, clock, options)


def imap_cleanup_ctx(
    settings: Settings, mail: MailService, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> Callable[[web.Application], AsyncIterator[None]] | None:
    """The ``cleanup_ctx`` entry reading ``email.imap_mailboxes`` into the mail room's
    ingest; None when no mailbox is configured.  Mailbox URLs are checked now, so a
    wrong one stops the start-up with a clear message."""
    service = imap_service(
        settings.email, ImapPositions(sessions, clock), functools.partial(ingest_raw, mail), clock
    )
    if service is None:
        return None
    imap = service

    async def imap_mailboxes(app: web.Application) -> AsyncIterator[None]:
        await imap.start()
        yield
        await imap.stop()

    return imap_mailboxes
