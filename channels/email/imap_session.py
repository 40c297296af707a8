"""One IMAP connection with a folder selected (aioimaplib), and the few commands
the reader needs: search by UID or date, fetch, flag or move, IDLE, LOGOUT.

Responses are parsed here so that the reader (:mod:`channels.email.imap_in`)
deals in UIDs, bytes and dates only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import aioimaplib

from channels.email.imap_config import KEYWORD, MailboxConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_PERMANENTFLAGS = re.compile(rb"\[PERMANENTFLAGS \(([^)]*)\)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ImapError(Exception):
    """The server refused a command, or the connection broke."""


class ImapAuthError(ImapError):
    """The server refused the login."""


@dataclass(frozen=True, slots=True)
class MessageMeta:
    uid: int
    internaldate: datetime | None
    flags: frozenset[str]
    size: int


def _ok(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        text = b" ".join(x for x in response.lines if isinstance(x, bytes)).decode(errors="replace")
        raise ImapError(f"{what}: {response.result} {text[:300]}")
    return response


def encode_folder(name: str) -> str:
    """A folder name as IMAP writes it (RFC 3501 5.1.3, modified UTF-7), quoted:
    ``Entwürfe`` -> ``"Entw&APw-rfe"``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return aioimaplib.quoted("".join(out))


def parse_internaldate(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def imap_date(day: date) -> str:
    """``SEARCH SINCE`` wants ``3-Dec-2026`` in English whatever the locale."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def parse_uids(response: aioimaplib.Response) -> list[int]:
    uids: list[int] = []
    for line in response.lines[:-1]:  # the last line is the tagged status text
        if isinstance(line, bytes | bytearray):
            words = bytes(line).split()
            if words and words[0] == b"SEARCH":
                words = words[1:]
            if words and all(w.isdigit() for w in words):  # not "3 EXISTS" and the like
                uids.extend(int(w) for w in words)
    return uids


def parse_metas(response: aioimaplib.Response) -> dict[int, MessageMeta]:
    metas: dict[int, MessageMeta] = {}
    for line in response.lines:
        if not isinstance(line, bytes) or b"FETCH (" not in line:
            continue
        uid = _FETCH_UID.search(line)
        if uid is None:
            continue
        when = _INTERNALDATE.search(line)
        flags = _FLAGS.search(line)
        size = _SIZE.search(line)
        metas[int(uid.group(1))] = MessageMeta(
            uid=int(uid.group(1)),
            internaldate=parse_internaldate(when.group(1).decode()) if when else None,
            flags=frozenset(flags.group(1).decode(errors="replace").split()) if flags else frozenset(),
            size=int(size.group(1)) if size else 0,
        )
    return metas


def parse_body(response: aioimaplib.Response, uid: int) -> bytes | None:
    """The literal that follows the ``FETCH`` line of ``uid`` (other, unsolicited
    FETCH lines, such as a flag change by another client, are skipped)."""
    lines = response.lines
    for i, line in enumerate(lines):
        if not isinstance(line, bytes) or b"FETCH (" not in line or b"BODY[]" not in line:
            continue
        found = _FETCH_UID.search(line)
        if found is None or int(found.group(1)) != uid:
            continue
        if i + 1 < len(lines) and isinstance(lines[i + 1], bytearray):
            return bytes(lines[i + 1])
        if line.rstrip().endswith(b"BODY[] NIL"):
            return b""
    return None


_EXISTS = re.compile(rb"^(\* )?\d+ EXISTS")


class _Protocol(aioimaplib.IMAP4ClientProtocol):
    """Notes new mail announced outside IDLE.  aioimaplib drops an untagged
    ``* N EXISTS`` that arrives with another command's response (Dovecot sends it
    with the next response after a delivery), and the server does not repeat it in
    the following IDLE: without this the mail would wait for the IDLE refresh."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.exists_seen = False

    def _untagged_response(self, line: bytes) -> object:
        if _EXISTS.match(line):
            self.exists_seen = True
        return super()._untagged_response(line)


class _Client(aioimaplib.IMAP4):
    protocol: _Protocol

    def create_client(  # same as aioimaplib's, with our protocol
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Callable[[Exception | None], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = _Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        )


class ImapSession:
    """A logged-in connection with ``box.folder`` selected; :meth:`open` makes one."""

    def __init__(
        self, box: MailboxConfig, client: aioimaplib.IMAP4, lost: asyncio.Event, timeout: float
    ) -> None:
        self.box = box
        self.client = client
        self.lost = lost  # set when the connection drops
        self.timeout = timeout
        self.uidvalidity = 0
        self.uidnext = 0
        self.permanent_flags: frozenset[str] = frozenset()
        self._warned: set[str] = set()

    @classmethod
    async def open(cls, box: MailboxConfig, seconds: float) -> ImapSession:
        """Connect, log in and select; ``seconds`` bounds each step and command."""
        lost = asyncio.Event()
        context = ssl.create_default_context() if box.tls else None
        client = _Client(
            host=box.host,
            port=box.port,
            timeout=seconds,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=context,
        )
        session = cls(box, client, lost, seconds)
        try:
            await client.wait_hello_from_server()
            response = await session._call(client.login(box.user, box.password))
            if response.result != "OK":
                raise ImapAuthError(f"{box}: login refused ({response.result})")
            await session._select()
        except BaseException:
            session.abort()
            raise
        return session

    async def _select(self) -> None:
        response = _ok(
            await self._call(self.client.select(encode_folder(self.box.folder))),
            f"SELECT {self.box.folder}",
        )
        text = b"\n".join(x for x in response.lines if isinstance(x, bytes))
        validity = _UIDVALIDITY.search(text)
        if validity is None:
            raise ImapError(f"{self.box}: the server gave no UIDVALIDITY")
        self.uidvalidity = int(validity.group(1))
        flags = _PERMANENTFLAGS.search(text)
        self.permanent_flags = frozenset(flags.group(1).decode().split()) if flags else frozenset()
        uidnext = _UIDNEXT.search(text)
        if uidnext is not None:
            self.uidnext = int(uidnext.group(1))
        else:  # rare: ask for the highest UID instead
            uids = parse_uids(
                _ok(await self._call(self.client.uid_search("UID", "*", charset=None)), "UID SEARCH")
            )
            self.uidnext = max(uids, default=0) + 1

    # ------------------------------------------------------------------ reading
    def can_idle(self) -> bool:
        return self.client.has_capability("IDLE")

    def new_mail_announced(self) -> bool:
        """True once after the server announced new mail (``EXISTS``) since the last call."""
        seen, self.client.protocol.exists_seen = self.client.protocol.exists_seen, False
        return bool(seen)

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, ascending (``N:*`` also names the highest UID
        when it is below N, hence the filter)."""
        response = _ok(
            await self._call(self.client.uid_search("UID", f"{last_uid + 1}:*", charset=None)), "UID SEARCH"
        )
        return sorted(u for u in set(parse_uids(response)) if u > last_uid)

    async def uids_since(self, day: date) -> list[int]:
        response = _ok(
            await self._call(self.client.uid_search("SINCE", imap_date(day), charset=None)),
            "UID SEARCH SINCE",
        )
        return sorted(set(parse_uids(response)))

    async def metas(self, uids: Iterable[int]) -> dict[int, MessageMeta]:
        wanted = sorted(set(uids))
        if not wanted:
            return {}
        found: dict[int, MessageMeta] = {}
        for start in range(0, len(wanted), 500):
            chunk = ",".join(str(u) for u in wanted[start : start + 500])
            response = _ok(
                await self._call(
                    self.client.uid("fetch", chunk, "(UID INTERNALDATE FLAGS RFC822.SIZE)"), whole=False
                ),
                "UID FETCH",
            )
            found.update(parse_metas(response))
        return found

    async def fetch(self, uid: int) -> bytes | None:
        """The whole message, without setting ``\\Seen``; None when it is gone."""
        fetch = self.client.uid("fetch", str(uid), "(UID BODY.PEEK[])")
        response = _ok(await self._call(fetch, whole=False), "UID FETCH")
        return parse_body(response, uid)

    # ------------------------------------------------------------------ after import
    def _keyword_allowed(self) -> bool:
        return "\\*" in self.permanent_flags or KEYWORD in self.permanent_flags

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("%s: %s", self.box, message)

    async def mark(self, uid: int, after_import: str) -> None:
        """Tell the mailbox the message was imported: ``seen`` (\\Seen and our
        keyword), ``keyword`` ($GuichetImported), ``move:<folder>`` or ``none``."""
        if after_import == "none":
            return
        move_to = after_import[5:] if after_import.startswith("move:") else None
        if move_to is not None and await self._move(uid, move_to):
            return
        flags = ["\\Seen"] if after_import == "seen" else []
        if self._keyword_allowed():
            flags.append(KEYWORD)
        elif after_import != "seen":
            self._warn_once("keyword", f"the server keeps no keyword {KEYWORD}; marking imported mail \\Seen")
            flags.append("\\Seen")
        _ok(
            await self._call(self.client.uid("store", str(uid), "+FLAGS.SILENT", f"({' '.join(flags)})")),
            "UID STORE",
        )

    async def flag_left(self, uid: int, keyword: str) -> None:
        """Flag a message left in the mailbox, not imported (it stays unread)."""
        if self._keyword_allowed() or keyword in self.permanent_flags:
            response = await self._call(self.client.uid("store", str(uid), "+FLAGS.SILENT", f"({keyword})"))
            _ok(response, "UID STORE")

    async def _move(self, uid: int, folder: str) -> bool:
        target = encode_folder(folder)
        if self.client.has_capability("MOVE"):
            response = await self._call(self.client.uid("move", str(uid), target))
        elif self.client.has_capability("UIDPLUS"):
            response = await self._call(self.client.uid("copy", str(uid), target))
            if response.result == "OK":
                _ok(
                    await self._call(self.client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Deleted)")),
                    "UID STORE",
                )
                response = await self._call(self.client.uid("expunge", str(uid)))
        else:
            self._warn_once(
                "move", "the server can move no single message (no MOVE, no UIDPLUS); flagging instead"
            )
            return False
        if response.result != "OK":
            self._warn_once(f"move:{folder}", f"moving imported mail to {folder!r} failed; flagging instead")
            return False
        return True

    # ------------------------------------------------------------------ waiting
    async def idle(self, seconds: float, stop: asyncio.Event) -> None:
        """IDLE until the server reports a change, ``seconds`` pass, or ``stop``."""
        idle = await self._call(self.client.idle_start(timeout=seconds))
        waits = {
            asyncio.ensure_future(self.client.wait_server_push(timeout=seconds + self.timeout)),
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self.lost.wait()),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if self.lost.is_set():
            idle.cancel()
            raise ImapError(f"{self.box}: connection lost")
        self.client.idle_done()
        _ok(await self._call(idle), "IDLE")

    async def _call(self, command: Awaitable[T], *, whole: bool = True) -> T:
        """Await one command, or fail at once when the connection drops (aioimaplib
        would let the command wait for its timeout).  ``whole=False`` for a FETCH:
        a large message may take longer than the timeout, which aioimaplib then
        applies to silence between two pieces of data instead."""
        task = asyncio.ensure_future(command)
        lost = asyncio.ensure_future(self.lost.wait())
        limit = self.timeout + 1 if whole else None
        try:
            await asyncio.wait({task, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise ImapError(
                f"{self.box}: connection lost" if self.lost.is_set() else f"{self.box}: no answer"
            )
        return task.result()

    async def close(self) -> None:
        """LOGOUT, politely; the connection is closed whatever happens."""
        try:
            if not self.lost.is_set():
                with contextlib.suppress(Exception):
                    await self.client.logout()
        finally:
            self.abort()

    def abort(self) -> None:
        transport = getattr(self.client.protocol, "transport", None)
        if transport is not None:
            transport.close()
