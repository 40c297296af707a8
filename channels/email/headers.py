"""Header values read defensively.

The message is parsed with ``policy.default``, but its header objects parse lazily
and some hostile values make them raise (or recurse deeply). So header values are
read here from the raw source (``raw_items``): raw 8-bit bytes (RFC 6532 UTF-8, or
Latin-1 from old clients) are decoded with a fallback, RFC 2047 encoded-words are
decoded charset-by-charset with the same fallback, folding is undone. Nothing
here raises.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from channels.email.mime_text import decode_bytes
from channels.email.parsed import Address

MAX_HEADER_CHARS = 16_000  # one header value; beyond this it is cut
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MSG_ID = re.compile(r"<([^<>\s]{1,900})>")


def _fix_8bit(value: str) -> str:
    """Surrogate-escaped raw bytes (from ``BytesParser``) as text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("ascii", "surrogateescape")
    return decode_bytes(data, "utf-8")[0]


def raw_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header ``name`` (case-insensitive), 8-bit repaired, unfolded."""
    wanted = name.lower()
    out = []
    items = msg.raw_items() if hasattr(msg, "raw_items") else iter(msg.items())
    for key, value in items:
        if str(key).lower() == wanted:
            text = _fix_8bit(str(value))[:MAX_HEADER_CHARS]
            out.append(re.sub(r"\r?\n[ \t]*", " ", text).replace("\r", " "))
    return out


def raw_value(msg: Message, name: str) -> str | None:
    values = raw_values(msg, name)
    return values[0] if values else None


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words decoded; unknown charsets fall back, never raise."""
    if "=?" not in value:
        return _CONTROL.sub("", value).strip()
    try:
        chunks = decode_header(value)
    except Exception:  # a broken encoded-word stays as written
        return _CONTROL.sub("", value).strip()
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset)[0])
        else:
            parts.append(chunk)
    return _CONTROL.sub("", "".join(parts)).strip()


def text_header(msg: Message, name: str) -> str:
    """A decoded unstructured header (Subject, ...), "" when absent."""
    value = raw_value(msg, name)
    return decode_words(value) if value is not None else ""


def _clean_address(addr: str) -> str:
    addr = _CONTROL.sub("", addr).strip().strip("<>").strip()
    if "@" not in addr:
        return addr
    local, _, domain = addr.rpartition("@")
    return f"{local}@{domain.lower()}"


def addresses(msg: Message, name: str) -> tuple[Address, ...]:
    """The addresses of ``name`` (all its occurrences), display names decoded."""
    values = raw_values(msg, name)
    if not values:
        return ()
    try:
        pairs = getaddresses(values)
    except Exception:
        pairs = []
    out = []
    for display, addr in pairs:
        clean = _clean_address(addr)
        if not clean and not display:
            continue
        out.append(Address(address=clean, name=decode_words(display)[:300]))
    if not out:
        found = re.findall(r"[^\s<>,;\"']+@[^\s<>,;\"']+", " ".join(values))
        out = [Address(address=_clean_address(a)) for a in found]
    return tuple(out[:500])


def message_ids(msg: Message, name: str) -> tuple[str, ...]:
    """The ids in Message-ID / In-Reply-To / References, without <>, in order, once each."""
    out: list[str] = []
    for value in raw_values(msg, name):
        found = _MSG_ID.findall(value)
        if not found:
            found = [t.strip("<>") for t in value.split() if "@" in t][:1]
        for ident in found:
            if ident and ident not in out:
                out.append(ident)
    return tuple(out[:200])


def date_header(msg: Message) -> datetime | None:
    value = raw_value(msg, "Date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except Exception:  # garbage dates are common
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
