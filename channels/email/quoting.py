"""Separate the new text of a reply from its quoted history and its signature.

The bot reads only the new text; the whole message stays stored. The rules, in
order: a forward marker stops everything (a forwarded mail is the customer's
content); otherwise the first attribution ("On … wrote:", "Le … a écrit :", also
split over up to three lines as Gmail does), Outlook header block ("From: / Sent: /
To: / Subject:", "De : / Envoyé : / À : / Objet :"), or "-----Original Message-----"
style separator starts the quoted history, which runs to the end; ``>``-quoted lines
left above it (inline replies) are moved to the quoted part too. Then a ``-- ``
signature or a "Sent from my iPhone" line at the end of what remains is the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ATTRIBUTION_END = re.compile(
    r"(\bwrote|\ba\s+écrit|\ba\s+ecrit|\bescribió|\bschrieb|\bha\s+scritto|\bschreef)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Le|El|Am|Il|Op)\s", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(Original Message|Message d'origine|Message original|Mensaje original|"
    r"Ursprüngliche Nachricht|Messaggio originale)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(-{2,}\s*(Forwarded message|Message transféré|Message transfere|Mensaje reenviado|"
    r"Weitergeleitete Nachricht)\s*-{2,}|Begin forwarded message:|Début du message réexpédié\s*:)",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FIELD = re.compile(
    r"^\s*[*>]*\s*\*?(From|De|Von|Da|Sent|Envoyé|Envoye|Date|Gesendet|To|À|A|An|Cc|Subject|Objet|Betreff|Oggetto)"
    r"\s*\*?\s*:",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\s*[*>]*\s*\*?(From|De|Von|Da)\s*\*?\s*:", re.IGNORECASE)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \S.*|Sent from (Mail|Outlook|Yahoo Mail|Samsung|Gmail)\b.*|Get Outlook for \S.*|"
    r"Envoyé de mon \S.*|Envoyé depuis mon \S.*|Envoyé à partir de \S.*|Envoyé avec \S.*|"
    r"Obtenir Outlook pour \S.*|Télécharger Outlook pour \S.*|Von meinem \S.* gesendet)\s*$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 20


@dataclass(frozen=True, slots=True)
class SplitText:
    new: str
    quoted: str
    signature: str


def _attribution_at(lines: list[str], i: int) -> bool:
    """An attribution starts at line ``i``: on that line, or wrapped over up to 3 lines."""
    line = lines[i]
    if not line.strip() or line.lstrip().startswith(">"):
        return False
    if _ATTRIBUTION_END.search(line) and (
        _ATTRIBUTION_START.match(line) or "@" in line or re.search(r"\d", line)
    ):
        return True
    if not _ATTRIBUTION_START.match(line):
        return False
    joined = line
    for j in range(i + 1, min(i + 3, len(lines))):
        if not lines[j].strip():
            return False
        joined += " " + lines[j].strip()
        if _ATTRIBUTION_END.search(joined):
            return True
    return False


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook-style header block ("From:" then Sent/To/Subject) starts at line ``i``."""
    if not _FROM_FIELD.match(lines[i]):
        return False
    fields = 1
    for j in range(i + 1, min(i + 8, len(lines))):
        if _HEADER_FIELD.match(lines[j]):
            fields += 1
        elif lines[j].strip() and not lines[j].startswith((" ", "\t")):
            break
    return fields >= 3


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _FORWARD.match(line):
            return None  # a forwarded message is content, not history
        if _SEPARATOR.match(line) or _attribution_at(lines, i):
            return i
        if _UNDERSCORES.match(line) and i + 1 < len(lines) and _header_block_at(lines, i + 1):
            return i
        if _header_block_at(lines, i):
            return i
    return None


def _signature_start(lines: list[str]) -> int | None:
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    if last < 0:
        return None
    for i in range(last, max(-1, last - _MAX_SIGNATURE_LINES), -1):
        if lines[i] in ("-- ", "--"):
            return i
    for i in range(last, max(-1, last - 3), -1):
        if _MOBILE_SIGNATURE.match(lines[i]):
            return i
    return None


def split_reply(text: str) -> SplitText:
    """``text`` (newlines normalised to ``\\n``) as new text, quoted history, signature."""
    lines = text.split("\n")
    quoted: list[str] = []
    start = _quote_start(lines)
    if start is not None:
        quoted = lines[start:]
        lines = lines[:start]
    kept: list[str] = []
    inline_quotes: list[str] = []
    for line in lines:
        if line.startswith(">"):
            inline_quotes.append(line)
        else:
            kept.append(line)
    if inline_quotes and not any(line.strip() for line in kept):
        kept = []
    signature: list[str] = []
    sig = _signature_start(kept)
    if sig is not None:
        signature = kept[sig:]
        kept = kept[:sig]
    return SplitText(
        new="\n".join(kept).strip(),
        quoted="\n".join(inline_quotes + quoted).strip(),
        signature="\n".join(signature).strip(),
    )
