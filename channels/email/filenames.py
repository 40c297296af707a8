"""Safe attachment file names.

A name from a mail is hostile until proven otherwise: it may climb directories
(``../../etc/passwd``), hide its real extension behind a right-to-left override
(``invoice\u202efdp.exe`` shows as ``invoiceexe.pdf``), carry control characters,
pretend to be a document (``invoice.pdf.exe``), be a reserved Windows device name
(``CON``, ``LPT1``) or be very long. ``safe_filename`` returns a name that is none
of these, and says what it changed.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 120
_BIDI_AND_INVISIBLE = {
    "\u061c", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
    "\u202d", "\u202e", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff",
}  # fmt: skip
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
# Extensions that run code when opened on a common desktop.
EXECUTABLE_EXTENSIONS = frozenset(
    [
        "exe",
        "com",
        "scr",
        "pif",
        "bat",
        "cmd",
        "msi",
        "msp",
        "msc",
        "vbs",
        "vbe",
        "js",
        "jse",
        "wsf",
        "wsh",
        "ws",
        "ps1",
        "psm1",
        "lnk",
        "hta",
        "cpl",
        "jar",
        "reg",
        "dll",
        "app",
        "command",
        "sh",
        "iso",
        "img",
        "vhd",
        "vhdx",
        "appx",
        "appxbundle",
        "msix",
        "application",
        "gadget",
        "inf",
        "scf",
        "url",
        "docm",
        "xlsm",
        "pptm",
    ]
)
_WINDOWS_BAD = re.compile(r'[<>:"|?*\\/]')


def safe_filename(name: str | None, *, fallback: str = "attachment") -> tuple[str, tuple[str, ...]]:
    """A safe version of ``name`` and the list of what was neutralised (empty if nothing)."""
    changes: list[str] = []
    original = name or ""
    text = unicodedata.normalize("NFC", original)
    if any(ch in _BIDI_AND_INVISIBLE for ch in text):
        changes.append("bidi or invisible control removed")
        text = "".join(ch for ch in text if ch not in _BIDI_AND_INVISIBLE)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        changes.append("control characters removed")
        text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    if "/" in text or "\\" in text:
        changes.append("directory part removed")
        text = re.split(r"[/\\]", text)[-1]
    if _WINDOWS_BAD.search(text):
        changes.append("reserved characters replaced")
        text = _WINDOWS_BAD.sub("_", text)
    stripped = text.strip().strip(".").strip()
    if stripped != text:
        if text.strip().startswith(".") or text.strip().endswith("."):
            changes.append("leading or trailing dots removed")
        text = stripped
    text = re.sub(r"\s+", " ", text)
    if not text:
        if original:
            changes.append("empty after cleaning")
        text = fallback
    parts = text.split(".")
    if len(parts) > 1 and parts[-1].lower() in EXECUTABLE_EXTENSIONS:
        if len(parts) > 2:
            changes.append(f"double extension .{parts[-2]}.{parts[-1]} neutralised")
        else:
            changes.append(f"executable extension .{parts[-1]} neutralised")
        # The name no longer ends with what runs: invoice.pdf.exe -> invoice.pdf_exe.bin
        text = ".".join(parts[:-1]) + "_" + parts[-1] + ".bin"
    if _RESERVED.match(text):
        changes.append("reserved device name")
        text = "_" + text
    if len(text) > MAX_NAME_CHARS:
        changes.append(f"cut to {MAX_NAME_CHARS} characters")
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            text = text[:MAX_NAME_CHARS]
    return text, tuple(changes)
