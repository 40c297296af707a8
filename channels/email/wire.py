"""An outbound mail as the relay receives it, written directly as bytes.

The stdlib's ``EmailMessage`` (``policy.SMTP``) parses every header it is given
back into a structure and folds it again when serialising: 5–8 ms of CPU for one
reply, measured, more than the rest of its sending.  Our mail has a fixed shape
(known headers, two text parts), so it is written here with the stdlib's
encoders for each piece: ``formataddr``/``Header`` for RFC 2047 encoded words
(names and subjects in any script), quoted-printable for bodies that are not
plain ASCII (so any relay takes it, with or without 8BITMIME), header lines
folded under 78 characters, CRLF line ends.  A mail with an address that is not
ASCII (SMTPUTF8) is left to the stdlib (:func:`channels.email.compose.compose`).

Tests parse what this writes with ``policy.default`` and compare with what was meant.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Iterable
from email.header import Header
from email.utils import formataddr

CRLF = "\r\n"
MAX_HEADER_LINE = 78
MAX_BODY_LINE = 998


def ascii_only(*values: str) -> bool:
    return all(value.isascii() for value in values)


def unstructured(name: str, value: str) -> str:
    """``Name: value`` for free text (Subject), folded; RFC 2047 words if not ASCII
    (or if it looks like an encoded word itself, so a reader shows it as written)."""
    value = " ".join(value.split())  # no line breaks of its own
    plain = value.isascii() and "=?" not in value
    if plain and len(name) + 2 + len(value) <= MAX_HEADER_LINE:
        return f"{name}: {value}"
    header = Header(value, "us-ascii" if plain else "utf-8", maxlinelen=MAX_HEADER_LINE, header_name=name)
    return f"{name}: {header.encode(linesep=CRLF)}"


def mailbox(name: str, address: str) -> str:
    """``Name <address>``, the name quoted or encoded as it needs (the address ASCII)."""
    if name.isascii() and "=?" not in name:
        return formataddr((name, address))
    encoded = Header(name, "utf-8", maxlinelen=MAX_HEADER_LINE, header_name="From").encode(linesep=CRLF)
    last = encoded.rpartition(CRLF)[2] if CRLF in encoded else f"From: {encoded}"
    fold = CRLF if len(last) + len(address) + 3 > MAX_HEADER_LINE else ""
    return f"{encoded}{fold} <{address}>"


def words(name: str, items: Iterable[str], sep: str = " ") -> str:
    """``Name: a b c`` folded between items: ``sep`` ``" "`` for Message-ID lists,
    ``", "`` for address lists (the comma stays at the end of a folded line)."""
    lines: list[str] = []
    line = f"{name}:"
    for n, item in enumerate(items):
        piece = f" {item}" if n == 0 else f"{sep}{item}"
        if n and len(line) + len(piece) > MAX_HEADER_LINE:
            lines.append(line + sep.rstrip())
            line = f" {item}"
        else:
            line += piece
    lines.append(line)
    return CRLF.join(lines)


def text_part(content: str, subtype: str) -> tuple[list[str], bytes]:
    """The headers and the encoded body of one text part (CRLF line ends)."""
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if text.isascii() and max((len(line) for line in lines), default=0) <= MAX_BODY_LINE:
        body = CRLF.join(lines).encode("ascii")
        cte = "7bit"
    else:
        encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
        body = encoded.replace(b"\n", b"\r\n")
        cte = "quoted-printable"
    return [f'Content-Type: text/{subtype}; charset="utf-8"', f"Content-Transfer-Encoding: {cte}"], body


def alternative(headers: list[str], plain: str, html: str) -> bytes:
    """The whole mail: ``headers`` (lines without CRLF), then multipart/alternative
    with the text and its HTML form."""
    parts = [text_part(plain, "plain"), text_part(html, "html")]
    boundary = f"=_{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable
    while any(boundary.encode() in body for _, body in parts):  # nor, in practice, in 7bit text
        boundary = f"=_{secrets.token_hex(12)}"
    top = [*headers, "MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"']
    out = [CRLF.join(top).encode("ascii"), b"\r\n\r\n"]
    for part_headers, body in parts:  # the CRLF before a boundary belongs to the boundary
        out += [f"--{boundary}\r\n".encode(), CRLF.join(part_headers).encode("ascii"), b"\r\n\r\n", body,
                b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)
