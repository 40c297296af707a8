"""A real Dovecot IMAP server on 127.0.0.1 for tests, in a temp dir, on a free port.

Mail is kept in Maildir under the temp dir; users live in a passwd-file with plain
passwords; plaintext LOGIN is allowed (loopback only).  As root, the mail processes
run as ``nobody`` (Dovecot refuses root for mail); as any other user, everything
runs as that user.  When ``dovecot`` is missing, tests are skipped on a developer
machine and FAIL in CI (``CI=true``), like :class:`tests.support.services.Postgres`.

The helpers here are a second, independent IMAP client (stdlib :mod:`imaplib`): they
APPEND mail, change flags and read flags the way a person's mail program would.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from tests.support.services import free_port, missing

DOVECOT = "/usr/sbin/dovecot"


def _config(root: Path, port: int, mail_user: str, mail_group: str, as_root: bool) -> str:
    unprivileged = (
        ""
        if as_root
        else f"""
default_login_user = {mail_user}
default_internal_user = {mail_user}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    group = {mail_group}
  }}
}}
service imap-hibernate {{
  unix_listener imap-hibernate {{
    group = {mail_group}
  }}
}}
service dict {{
  unix_listener dict {{
    group = {mail_group}
  }}
}}
service dict-async {{
  unix_listener dict-async {{
    group = {mail_group}
  }}
}}
"""
    )
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user}
mail_gid = {mail_group}
first_valid_uid = 0
first_valid_gid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{unprivileged}"""


class Dovecot:
    """``Dovecot().start()``; ``add_user``; ``url(user)`` for the gateway; ``stop()``."""

    def __init__(self) -> None:
        if not Path(DOVECOT).exists():
            missing("Dovecot (Debian package dovecot-imapd)")
        self.dir = Path(tempfile.mkdtemp(prefix="guichet-dovecot-"))
        self.port = free_port()
        self.host = "127.0.0.1"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            self.mail_user, self.mail_group = "nobody", "nogroup"
        else:
            me = pwd.getpwuid(os.geteuid())
            self.mail_user = me.pw_name
            self.mail_group = grp.getgrgid(os.getegid()).gr_name
        self.passwords: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Dovecot:
        for sub in ("run", "state", "mail", "users"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self._write_users()
        if self._as_root:  # Dovecot's auth and mail processes run as other users
            self.dir.chmod(0o755)
            shutil.chown(self.dir / "mail", self.mail_user, self.mail_group)
        conf = self.dir / "dovecot.conf"
        conf.write_text(_config(self.dir, self.port, self.mail_user, self.mail_group, self._as_root))
        self._proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "stderr.log", "ab"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,  # its own process group, stopped as one
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on {self.port}:\n{self.log()}")

    def stop(self, *, keep: bool = False) -> None:
        """Stop the server; ``keep=True`` keeps its mail for a later :meth:`start`."""
        if self._proc is not None and self._proc.poll() is None:
            # the whole group at once (master, login and imap processes): clients see
            # their connection close now, not after the master's shutdown grace time
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._proc = None
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("dovecot.log", "stderr.log"):
            p = self.dir / name
            if p.exists():
                parts.append(p.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    # ------------------------------------------------------------------ users
    def add_user(self, user: str, password: str = "secret") -> str:
        """A mailbox owner; returns the ``imap://`` URL of its INBOX for the gateway."""
        self.passwords[user] = password
        self._write_users()
        return self.url(user)

    def _write_users(self) -> None:
        # One passwd-file per user: a new file is read at once (a rewritten one may be
        # cached for the second it was written in).
        for u, p in self.passwords.items():
            path = self.dir / "users" / u
            if not path.exists():
                path.write_text(f"{u}:{{PLAIN}}{p}::::::\n")

    def url(self, user: str, folder: str = "INBOX", **query: str) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        pw = quote(self.passwords[user], safe="")
        return f"imap://{quote(user, safe='')}:{pw}@{self.host}:{self.port}/{folder}" + (f"?{q}" if q else "")

    def maildir(self, user: str) -> Path:
        return self.dir / "mail" / user

    def reset_uidvalidity(self, user: str) -> None:
        """What a server rebuild does: forget the UID list and indexes, so the next
        session gets a new UIDVALIDITY and new UIDs for the same messages."""
        box = self.maildir(user)
        for p in [box / "dovecot-uidlist", *box.glob("dovecot.index*")]:  # keywords stay
            if p.is_file():
                p.unlink()
        time.sleep(1.1)  # Dovecot's new UIDVALIDITY is the current second: make it differ

    # ------------------------------------------------------------------ a mail client
    def client(self, user: str, folder: str = "INBOX") -> imaplib.IMAP4:
        c = imaplib.IMAP4(self.host, self.port, timeout=10)
        c.login(user, self.passwords[user])
        c.select(folder)
        return c

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """APPEND a message as another mail program would; returns its UID."""
        c = self.client(user, folder)
        try:
            typ, data = c.append(folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
            text = (data[0] or b"").decode()
            # "[APPENDUID <uidvalidity> <uid>] Append completed."
            return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])
        finally:
            c.logout()

    def flags(self, user: str, uid: int, folder: str = "INBOX") -> set[str]:
        c = self.client(user, folder)
        try:
            typ, data = c.uid("FETCH", str(uid), "(FLAGS)")
            assert typ == "OK", data
            first = data[0]
            text = first.decode() if isinstance(first, bytes) else str(first)
            inner = text.split("FLAGS (", 1)[1].split(")", 1)[0]
            return set(inner.split())
        finally:
            c.logout()

    def store(self, user: str, uid: int, op: str, flags: str, folder: str = "INBOX") -> None:
        """``store(user, uid, "-FLAGS", "\\\\Seen")``: a person changing flags."""
        c = self.client(user, folder)
        try:
            typ, data = c.uid("STORE", str(uid), op, f"({flags})")
            assert typ == "OK", data
        finally:
            c.logout()

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        c = self.client(user, folder)
        try:
            typ, data = c.uid("SEARCH", "ALL")
            assert typ == "OK", data
            return [int(x) for x in (data[0] or b"").split()]
        finally:
            c.logout()

    def create_folder(self, user: str, folder: str) -> None:
        c = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            c.login(user, self.passwords[user])
            typ, data = c.create(folder)
            assert typ == "OK", data
        finally:
            c.logout()
