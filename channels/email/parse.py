"""``parse_message``: raw bytes in, one :class:`ParsedMail` out, never an exception.

Pure: no database, no network. The steps: cheap checks on the raw bytes (header
size, how many MIME parts it declares), the stdlib parser with ``policy.default``,
a walk of the part tree under caps (depth, part count, time), the body (text/plain
preferred, else the HTML as text), the quote/signature split, the attachments under
their limits, the threading headers, then the classification. Anything that goes
wrong becomes ``spam_or_malformed`` with a readable reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser

from channels.email import headers as hdr
from channels.email.classify import classify
from channels.email.filenames import safe_filename
from channels.email.mime_text import html_to_text, part_bytes, part_text, sanitise_html
from channels.email.parsed import (
    DEFAULT_SUBJECT_TOKEN,
    MailClass,
    OmittedAttachment,
    ParsedAttachment,
    ParsedMail,
    ParseLimits,
)
from channels.email.quoting import split_reply

__all__ = ["DEFAULT_SUBJECT_TOKEN", "ParseLimits", "parse_message"]


class _ReadOnlyMessage(EmailMessage):
    """A received message, only ever read: its content type is worked out once.
    (``policy.default`` parses the Content-Type header again at every
    ``get_content_type()``, and the walk, the classifier and the attachment pass
    ask it of every part many times: a third of the parse's time, measured.)"""

    _content_type: str | None = None

    def get_content_type(self) -> str:
        if self._content_type is None:
            self._content_type = super().get_content_type()
        return self._content_type


_READ = policy.default.clone(message_factory=_ReadOnlyMessage)  # policy.default in all else

# Parts that belong to a report (their content is read by the classifier; the raw
# message keeps them), not attachments a person opened.
_REPORT_PARTS = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/global-headers",
    }
)


class _TooComplex(Exception):
    """The message is over one of the caps; the text is the reason."""


@dataclass
class _Walk:
    limits: ParseLimits
    deadline: float
    parts: int = 0
    texts: list[str] = field(default_factory=list)
    html: str | None = None
    leaves: list[tuple[Message, bool]] = field(default_factory=list)  # (part, inside an attached message)
    problems: list[str] = field(default_factory=list)

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _TooComplex(f"parsing took longer than {self.limits.max_parse_seconds:g} s")


_BOUNDARY_PARAM = re.compile(rb"""boundary\s*=\s*"?([^"\s;]{1,200})""", re.IGNORECASE)
_DELIMITER_LINE = re.compile(rb"^--([^\r\n]{1,202})", re.MULTILINE)


def _declared_parts(raw: bytes) -> int:
    """An upper bound on the parts the parser would build, from one pass over the bytes:
    boundary delimiter lines plus ``message/rfc822`` declarations. (``policy.default``
    spends about a millisecond a part, so thousands must be refused before parsing.)"""
    boundaries = set(_BOUNDARY_PARAM.findall(raw)[:10_000])
    delimiters = 0
    for line in _DELIMITER_LINE.findall(raw):
        token = line.rstrip()
        if token in boundaries or (token.endswith(b"--") and token[:-2] in boundaries):
            delimiters += 1
    return max(len(boundaries), delimiters) + raw.lower().count(b"message/rfc822")


def _header_block_size(raw: bytes) -> int:
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n"), raw.find(b"\r\r")) if i >= 0]
    return min(ends) if ends else len(raw)


def _children(part: Message) -> list[Message]:
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk(msg: Message, state: _Walk) -> None:
    """Depth-first over the tree (iterative: no recursion for a nesting bomb to exhaust)."""
    stack: list[tuple[Message, int, bool]] = [(msg, 0, False)]
    while stack:
        part, depth, attached = stack.pop()
        state.parts += 1
        if state.parts > state.limits.max_parts:
            raise _TooComplex(f"more than {state.limits.max_parts} MIME parts")
        if depth > state.limits.max_depth:
            raise _TooComplex(f"MIME nesting deeper than {state.limits.max_depth} levels")
        state.tick()
        ctype = part.get_content_type()
        if ctype.startswith("multipart/") and not part.is_multipart():
            state.problems.append(f"{ctype} without a usable boundary: read as text")
            state.leaves.append((part, attached))
        elif ctype.startswith("multipart/") or (ctype.startswith("message/") and part.is_multipart()):
            inner_attached = attached or (ctype in ("message/rfc822", "message/global") and part is not msg)
            if inner_attached and not attached:
                state.leaves.append((part, attached))  # the attached message itself
            for child in reversed(_children(part)):
                stack.append((child, depth + 1, inner_attached))
        else:
            state.leaves.append((part, attached))


def _disposition(part: Message) -> str:
    try:
        value = part.get_content_disposition()
    except Exception:
        return ""
    return value or ""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        try:
            value = part.get_param("name")
        except Exception:
            value = None
        name = value if isinstance(value, str) else None
    return hdr.decode_words(name) if name else None


def _content_id(part: Message) -> str | None:
    value = hdr.raw_value(part, "Content-ID")
    if not value:
        return None
    return value.strip().strip("<>").strip()[:300] or None


def _is_body(part: Message, ctype: str, attached: bool) -> bool:
    if not attached and ctype.startswith("multipart/"):
        return True  # no boundary: its payload is all there is to read
    if attached or ctype not in ("text/plain", "text/html"):
        return False
    return _disposition(part) != "attachment" and not _filename(part)


def _collect_attachments(
    leaves: list[tuple[Message, bool]], limits: ParseLimits, state: _Walk
) -> tuple[list[ParsedAttachment], list[OmittedAttachment]]:
    kept: list[ParsedAttachment] = []
    omitted: list[OmittedAttachment] = []
    total = 0
    for part, attached in leaves:
        state.tick()
        ctype = part.get_content_type()
        if attached and ctype not in ("message/rfc822", "message/global"):
            continue  # inside an attached message: travels with it
        if ctype in _REPORT_PARTS or _is_body(part, ctype, attached):
            continue
        disposition = _disposition(part)
        original = _filename(part)
        is_message = ctype in ("message/rfc822", "message/global")
        default_name = "message.eml" if is_message else "attachment" + _guess_ext(ctype)
        name, changes = safe_filename(original, fallback=default_name)
        content_id = _content_id(part)
        if is_message:
            try:
                inner = part.get_payload()
                inner_msg = inner[0] if isinstance(inner, list) and inner else part
                data = inner_msg.as_bytes(policy=policy.compat32) if isinstance(inner_msg, Message) else b""
            except Exception:  # an attached message that cannot be re-serialised
                state.problems.append("an attached message could not be re-serialised: omitted")
                omitted.append(OmittedAttachment(name, ctype, 0, "attached message could not be read"))
                continue
        else:
            encoded = part.get_payload()
            if isinstance(encoded, str) and len(encoded) > limits.max_attachment_bytes * 1.4 + 1024:
                omitted.append(OmittedAttachment(name, ctype, len(encoded), _size_reason(limits)))
                continue
            data, problem = part_bytes(part)
            if problem:
                state.problems.append(f"{name}: {problem}")
        if len(kept) >= limits.max_attachments:
            reason = f"over the limit of {limits.max_attachments} attachments"
            omitted.append(OmittedAttachment(name, ctype, len(data), reason))
        elif len(data) > limits.max_attachment_bytes:
            omitted.append(OmittedAttachment(name, ctype, len(data), _size_reason(limits)))
        elif total + len(data) > limits.max_total_attachment_bytes:
            reason = f"over the {_mib(limits.max_total_attachment_bytes)} total for attachments"
            omitted.append(OmittedAttachment(name, ctype, len(data), reason))
        else:
            total += len(data)
            kept.append(
                ParsedAttachment(
                    filename=name,
                    content_type=ctype,
                    size=len(data),
                    data=data,
                    content_id=content_id,
                    inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
                    original_filename=original,
                    filename_changes=changes,
                )
            )
    return kept, omitted


def _size_reason(limits: ParseLimits) -> str:
    return f"over the {_mib(limits.max_attachment_bytes)} limit for one attachment"


def _mib(n: int) -> str:
    """``15 MiB``, ``64 KiB``, ``450 bytes``."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf",
        "text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics"}  # fmt: skip


def _guess_ext(ctype: str) -> str:
    return _EXT.get(ctype, ".bin")


def _body(leaves: list[tuple[Message, bool]], state: _Walk, max_chars: int) -> None:
    for part, attached in leaves:
        ctype = part.get_content_type()
        if not _is_body(part, ctype, attached):
            continue
        text, problems = part_text(part)
        state.problems.extend(problems)
        if len(text) > max_chars:
            state.problems.append(f"body cut to {max_chars} characters")
            text = text[:max_chars]
        if ctype != "text/html":
            state.texts.append(text)
        elif state.html is None:
            state.html = text


def _plus_tokens(mail: ParsedMail, own_addresses: Collection[str]) -> tuple[str, ...]:
    own = {a.strip().lower() for a in own_addresses}
    candidates = [a.address for a in (*mail.to, *mail.cc)] + list(mail.delivered_to)
    tokens: list[str] = []
    for address in candidates:
        local, _, domain = address.rpartition("@")
        if "+" not in local:
            continue
        base, _, token = local.partition("+")
        if own and f"{base.lower()}@{domain.lower()}" not in own:
            continue
        if token and token not in tokens:
            tokens.append(token[:200])
    return tuple(tokens)


def _language(text: str, hint: str | None) -> str | None:
    from gateway.language import detect

    found = detect(text[:5000], hint=hint, default="")
    return found or None


def _headers_only(
    raw: bytes, msg: Message | None, own: Collection[str], token: re.Pattern[str]
) -> ParsedMail:
    base = ParsedMail(
        mail_class=MailClass.CUSTOMER, class_reason="", automatic_reply_allowed=True, raw_size=len(raw)
    )
    if msg is None:
        return base
    subject = hdr.text_header(msg, "Subject")
    senders = hdr.addresses(msg, "From") or hdr.addresses(msg, "Sender")
    auto = hdr.raw_value(msg, "Auto-Submitted")
    return_path = hdr.raw_value(msg, "Return-Path")
    ids = hdr.message_ids(msg, "Message-ID")
    match = token.search(subject)
    mail = replace(
        base,
        message_id=ids[0] if ids else None,
        in_reply_to=hdr.message_ids(msg, "In-Reply-To"),
        references=hdr.message_ids(msg, "References"),
        subject=subject,
        subject_token=(match.group(1) if match.groups() else match.group(0)) if match else None,
        sender=senders[0] if senders else None,
        reply_to=hdr.addresses(msg, "Reply-To"),
        to=hdr.addresses(msg, "To"),
        cc=hdr.addresses(msg, "Cc"),
        delivered_to=tuple(
            a.address for name in ("Delivered-To", "X-Original-To") for a in hdr.addresses(msg, name)
        ),
        return_path=return_path.strip().strip("<>").strip() if return_path is not None else None,
        date=hdr.date_header(msg),
        auto_submitted=auto.strip().lower()[:100] if auto is not None else None,
    )
    return replace(mail, plus_tokens=_plus_tokens(mail, own))


def _header_only_parse(raw: bytes) -> Message | None:
    """Just the header block (to describe a message too complex to parse whole)."""
    try:
        return BytesHeaderParser(policy=policy.default).parsebytes(raw)
    except Exception:  # the full parse says what is wrong
        return None


def _malformed(mail: ParsedMail, reason: str, problems: list[str]) -> ParsedMail:
    return replace(
        mail,
        mail_class=MailClass.SPAM_OR_MALFORMED,
        class_reason=reason,
        automatic_reply_allowed=False,
        problems=tuple(problems),
    )


def parse_message(
    raw: bytes,
    *,
    own_addresses: Collection[str] = (),
    limits: ParseLimits | None = None,
    subject_token: str | re.Pattern[str] = DEFAULT_SUBJECT_TOKEN,
) -> ParsedMail:
    """Everything the pipeline stores about ``raw``; never raises on any input.

    ``own_addresses`` are our support addresses (mail from them is a loop; only
    plus-tokens on them count). ``subject_token`` is the pattern of the ticket
    reference in subjects; its first group (else the whole match) is the token.
    """
    limits = limits or ParseLimits()
    token = re.compile(subject_token) if isinstance(subject_token, str) else subject_token
    try:
        return _parse(bytes(raw), own_addresses, limits, token)
    except Exception as exc:  # the contract: a reason, never an exception
        mail = ParsedMail(
            mail_class=MailClass.SPAM_OR_MALFORMED,
            class_reason=f"the parser failed on this message ({type(exc).__name__})",
            automatic_reply_allowed=False,
            raw_size=len(raw),
        )
        return mail


def _parse(raw: bytes, own: Collection[str], limits: ParseLimits, token: re.Pattern[str]) -> ParsedMail:
    state = _Walk(limits=limits, deadline=time.monotonic() + limits.max_parse_seconds)
    empty = _headers_only(raw, None, own, token)
    if not raw.strip():
        return _malformed(empty, "empty message", [])
    if _header_block_size(raw) > limits.max_header_bytes:
        return _malformed(empty, f"header block larger than {limits.max_header_bytes} bytes", [])
    head = _header_only_parse(raw)
    if head is not None:
        empty = _headers_only(raw, head, own, token)
    if _declared_parts(raw) > limits.max_parts:
        return _malformed(empty, f"declares more than {limits.max_parts} MIME parts", [])
    try:
        state.tick()
        msg = BytesParser(policy=_READ).parsebytes(raw)
    except _TooComplex as exc:
        return _malformed(empty, str(exc), [])
    except Exception as exc:
        return _malformed(empty, f"unparseable MIME structure ({type(exc).__name__})", [])
    mail = _headers_only(raw, msg, own, token)
    defects = sorted({type(d).__name__ for d in msg.defects})
    if defects:
        state.problems.append("repaired: " + ", ".join(defects[:8]))
    try:
        _walk(msg, state)
        _body(state.leaves, state, limits.max_text_chars)
        state.tick()
        kept, omitted = _collect_attachments(state.leaves, limits, state)
        state.tick()
    except _TooComplex as exc:
        return _malformed(mail, str(exc), state.problems)
    full_text = "\n\n".join(t.strip("\n") for t in state.texts if t.strip())
    if not full_text and state.html:
        full_text = html_to_text(state.html, max_chars=limits.max_text_chars)
    split = split_reply(full_text)
    verdict = classify(msg, sender=mail.from_address, subject=mail.subject, body=full_text, own_addresses=own)
    try:
        state.tick()
    except _TooComplex as exc:
        return _malformed(mail, str(exc), state.problems)
    return replace(
        mail,
        mail_class=verdict.mail_class,
        class_reason=verdict.reason,
        automatic_reply_allowed=verdict.automatic_reply_allowed,
        language=_language(split.new or full_text, hdr.raw_value(msg, "Content-Language")),
        text=split.new,
        quoted=split.quoted,
        signature=split.signature,
        full_text=full_text,
        html=state.html,
        html_sanitised=sanitise_html(state.html, max_chars=limits.max_text_chars) if state.html else None,
        attachments=tuple(kept),
        omitted=tuple(omitted),
        bounce=verdict.bounce,
        problems=tuple(dict.fromkeys(state.problems)),
    )
