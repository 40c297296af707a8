"""Delivery-status notifications: RFC 3464 reports and legacy plain-text bounces.

A DSN is a ``multipart/report; report-type=delivery-status`` whose
``message/delivery-status`` part holds one block of per-message fields
(Reporting-MTA, ...) and one block per recipient (Final-Recipient, Action, Status,
Diagnostic-Code). The message it reports on comes back as a ``message/rfc822`` or
``text/rfc822-headers`` part: its Message-ID ties the bounce to our outbound mail.
Legacy bounces (qmail, old Exchange, ...) are plain text: the recipients, the
status codes and the original headers are found in the text.
"""

from __future__ import annotations

import re
from email.message import Message

from channels.email.mime_text import part_bytes
from channels.email.parsed import BounceRecipient, BounceReport

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b([45])\d\d[ -]")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+=/'!#$&*?^`{|}~-]{1,200}@[A-Za-z0-9.-]{1,250}\.[A-Za-z]{2,}")
_MSG_ID_LINE = re.compile(r"^Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_DELAY_WORDS = re.compile(r"\b(delay(ed)?|retard|not yet been delivered|will (retry|keep trying))\b", re.I)
MAX_DIAGNOSTIC = 300


def _field_blocks(text: str) -> list[dict[str, str]]:
    """``Name: value`` blocks separated by blank lines (continuation lines folded)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, ""
        elif line[:1] in (" ", "\t") and last:
            current[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip().lower()
            current[last] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _status_text(part: Message) -> str:
    """The delivery-status fields as text, whatever shape the parser gave them."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = []
        for block in payload:
            if isinstance(block, Message):
                chunks.append("\n".join(f"{k}: {v}" for k, v in block.raw_items()))
        return "\n\n".join(chunks)
    data, _ = part_bytes(part)
    return data.decode("utf-8", "replace")


def _after_semicolon(value: str) -> str:
    value = value.split(";", 1)[1] if ";" in value else value
    return value.strip().strip("<>").strip()


def _original_message_id(msg: Message) -> str | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global") and part is not msg:
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message):
                for key, value in inner_msg.raw_items():
                    if key.lower() == "message-id":
                        match = re.search(r"<([^<>\s]+)>", str(value))
                        if match:
                            return match.group(1)
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            data, _ = part_bytes(part)
            match = _MSG_ID_LINE.search(data.decode("utf-8", "replace"))
            if match:
                return match.group(1).strip("<>")
    return None


def parse_dsn(msg: Message) -> BounceReport | None:
    """The RFC 3464 report in ``msg``, or None when it carries no delivery-status part."""
    status_parts = [
        p
        for p in msg.walk()
        if p.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
    ]
    if not status_parts:
        return None
    blocks = [block for part in status_parts for block in _field_blocks(_status_text(part))]
    reporting_mta = ""
    recipients: list[BounceRecipient] = []
    for block in blocks:
        if "reporting-mta" in block and not reporting_mta:
            reporting_mta = _after_semicolon(block["reporting-mta"])[:200]
        who = block.get("final-recipient") or block.get("original-recipient")
        if not who:
            continue
        match = _STATUS.search(block.get("status", ""))
        recipients.append(
            BounceRecipient(
                recipient=_after_semicolon(who)[:320],
                status=match.group(0) if match else "",
                action=block.get("action", "").strip().lower()[:20],
                diagnostic=_after_semicolon(block.get("diagnostic-code", ""))[:MAX_DIAGNOSTIC],
            )
        )
    return BounceReport(
        kind="dsn",
        original_message_id=_original_message_id(msg),
        recipients=tuple(recipients[:100]),
        reporting_mta=reporting_mta,
    )


def parse_legacy_bounce(msg: Message, body: str, *, subject: str = "") -> BounceReport:
    """What can be read from a plain-text bounce: failed addresses, their status codes
    (enhanced ``5.1.1`` when given, else ``5.0.0``/``4.0.0`` from the SMTP reply code),
    and the original Message-ID when the original headers are quoted."""
    original = _original_message_id(msg)
    if original is None:
        match = _MSG_ID_LINE.search(body)
        original = match.group(1).strip("<>") if match else None
    delayed = bool(_DELAY_WORDS.search(subject)) or bool(_DELAY_WORDS.search(body[:2000]))
    recipients: dict[str, BounceRecipient] = {}
    lines = body.split("\n")
    for i, line in enumerate(lines[:2000]):
        found = _ADDRESS.findall(line)
        if not found:
            continue
        window = " ".join(lines[i : i + 4])
        enhanced = _STATUS.search(window)
        smtp = _SMTP_CODE.search(window)
        if enhanced:
            status = enhanced.group(0)
        elif smtp:
            status = f"{smtp.group(1)}.0.0"
        elif line.lstrip().startswith("<") and line.rstrip().endswith(">:"):  # qmail style
            status = "4.0.0" if delayed else "5.0.0"
        else:
            continue
        if status.startswith("2"):
            continue
        for addr in found[:1]:
            if addr.lower() not in recipients:
                recipients[addr.lower()] = BounceRecipient(
                    recipient=addr,
                    status=status,
                    action="delayed" if status.startswith("4") else "failed",
                    diagnostic=window.strip()[:MAX_DIAGNOSTIC],
                )
        if len(recipients) >= 50:
            break
    if not recipients:
        recipients = _recipients_after_marker(lines, body, delayed)
    return BounceReport(kind="legacy", original_message_id=original, recipients=tuple(recipients.values()))


_RECIPIENT_MARKER = re.compile(
    r"(following (address|recipient)|not delivered to|did not reach|could not be delivered to|"
    r"delivery to the following|n'a pas pu être remis|destinataire)",
    re.IGNORECASE,
)


def _recipients_after_marker(lines: list[str], body: str, delayed: bool) -> dict[str, BounceRecipient]:
    """ "Did not reach the following recipient(s):" and its kin, the address on that
    line or the next few; the status is the first enhanced code in the text, if any."""
    enhanced = _STATUS.search(body[:5000])
    status = enhanced.group(0) if enhanced else ("4.0.0" if delayed else "5.0.0")
    for i, line in enumerate(lines[:500]):
        if not _RECIPIENT_MARKER.search(line):
            continue
        for candidate in lines[i : i + 4]:
            found = _ADDRESS.findall(candidate)
            if found:
                addr = found[0]
                action = "delayed" if status.startswith("4") else "failed"
                window = " ".join(lines[i : i + 6]).strip()[:MAX_DIAGNOSTIC]
                return {addr.lower(): BounceRecipient(addr, status, action, window)}
    return {}
