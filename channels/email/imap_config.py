"""IMAP mailboxes from settings: one URL per folder.

``imaps://user:password@host[:port]/FOLDER[?import_existing=true&after_import=move:Done]``

- ``imaps://`` is IMAP over TLS (port 993 by default, certificate verified);
  ``imap://`` is plain text (port 143), refused unless the host is a loopback address
  (a local test server, or a tunnel) — passwords never cross a network in clear.
- The user and the password are percent-encoded (``@`` is ``%40``, ``,`` is ``%2C``).
- The folder defaults to ``INBOX``.
- Query keys override ``email.imap_import_existing`` and ``email.imap_after_import``
  for this one folder.  Any other key is an error.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

KEYWORD = "$GuichetImported"
TOO_LARGE = "$GuichetTooLarge"  # over email.max_message_bytes: left in the mailbox for a person
UNREADABLE = "$GuichetUnreadable"  # the server sent no body for it: left in the mailbox for a person
AFTER_IMPORT = ("seen", "keyword", "move:<folder>", "none")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class MailboxConfigError(ValueError):
    """A mailbox URL or option is wrong; the message never contains the password."""


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    host: str
    port: int
    tls: bool
    user: str
    password: str
    folder: str
    import_existing: bool
    after_import: str  # seen | keyword | none | move:<folder>

    @property
    def key(self) -> str:
        """The folder's stable name: ``user@host/FOLDER`` (no port, no scheme, so
        moving from 143 to 993 keeps the position)."""
        return f"{self.user}@{self.host.lower()}/{self.folder}"

    @property
    def move_to(self) -> str | None:
        return self.after_import[5:] if self.after_import.startswith("move:") else None

    def __repr__(self) -> str:  # never the password
        scheme = "imaps" if self.tls else "imap"
        return f"<MailboxConfig {scheme}://{self.user}@{self.host}:{self.port}/{self.folder}>"

    __str__ = __repr__


def check_after_import(value: str, where: str) -> str:
    value = value.strip()
    if value in ("seen", "keyword", "none"):
        return value
    if value.startswith("move:") and value[5:].strip():
        return "move:" + value[5:].strip()
    raise MailboxConfigError(f"{where}: after_import must be one of {', '.join(AFTER_IMPORT)}, got {value!r}")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


def parse_mailbox_url(
    url: str, *, import_existing: bool = False, after_import: str = "seen"
) -> MailboxConfig:
    """One ``email.imap_mailboxes`` entry; the defaults are the ``email.imap_*`` settings."""
    shown = _redacted(url)
    where = f"email.imap_mailboxes {shown!r}"
    try:
        parts = urlsplit(url.strip())
        port_given = parts.port
    except ValueError as exc:
        raise MailboxConfigError(f"{where}: {exc}") from None
    if parts.scheme not in ("imap", "imaps"):
        raise MailboxConfigError(f"{where}: the scheme must be imaps:// (TLS) or imap:// (loopback only)")
    host = parts.hostname or ""
    if not host:
        raise MailboxConfigError(f"{where}: no host")
    if parts.username is None or parts.password is None:
        raise MailboxConfigError(f"{where}: give the user and password as imaps://user:password@host/")
    tls = parts.scheme == "imaps"
    if not tls and not _is_loopback(host):
        raise MailboxConfigError(
            f"{where}: imap:// sends the password in clear; use imaps:// for {host} (imap:// is for loopback)"
        )
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    after = check_after_import(after_import, "email.imap_after_import")
    existing = import_existing
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "import_existing":
            if value.lower() not in _TRUE | _FALSE:
                raise MailboxConfigError(f"{where}: import_existing must be true or false, got {value!r}")
            existing = value.lower() in _TRUE
        elif name == "after_import":
            after = check_after_import(value, where)
        else:
            raise MailboxConfigError(
                f"{where}: unknown option {name!r} (known: import_existing, after_import)"
            )
    return MailboxConfig(
        host=host,
        port=port_given or (993 if tls else 143),
        tls=tls,
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=folder,
        import_existing=existing,
        after_import=after,
    )


def parse_mailboxes(urls: list[str], *, import_existing: bool, after_import: str) -> list[MailboxConfig]:
    """Every configured folder, each named once."""
    boxes = [parse_mailbox_url(u, import_existing=import_existing, after_import=after_import) for u in urls]
    seen: set[str] = set()
    for box in boxes:
        if box.key in seen:
            raise MailboxConfigError(f"email.imap_mailboxes: {box.key} is listed twice")
        seen.add(box.key)
    return boxes
