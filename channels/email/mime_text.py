"""Text out of MIME parts: charset fallback decoding, HTML to text, HTML sanitising.

Nothing here raises on bad input. A declared charset Python does not know (or a
body that does not decode in its declared charset) falls back to UTF-8, then to
Windows-1252 with replacement characters, and the caller is told so it can note
the repair. (On Python 3.11, ``EmailMessage.get_content()`` raises ``LookupError``
on an unknown charset, so the parser never calls it on text parts.)
"""

from __future__ import annotations

import codecs
import re
from email.message import Message
from html.parser import HTMLParser

import nh3

# Charset labels seen in the wild that Python does not know, or knows under
# another name; the right-hand side is a superset where one exists.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "unicode-1-1-utf-7": "utf-7",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "shift_jis",
    "x-user-defined": "windows-1252",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
    "x-mac-roman": "mac-roman",
    "utf8": "utf-8",
    "windows-874": "cp874",
}


def normalise_charset(label: str | None) -> str | None:
    """A codec name Python knows for ``label``, or None when there is none."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if not name or len(name) > 40:
        return None
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """``data`` as text and, when decoding needed a repair, a note saying which."""
    codec = normalise_charset(charset)
    if codec == "ascii":
        codec = "utf-8"  # 8-bit bytes under a us-ascii label are nearly always UTF-8 or Latin
    if codec is not None:
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if codec is None and charset:
            return text, f"unknown charset {charset[:40]!r}: decoded as UTF-8"
        return text, None if codec is None else f"body not valid {codec}: decoded as UTF-8"
    if codec is not None and codec not in ("utf-8",):
        # The declared charset is probably right with a few bad bytes (e.g. Shift_JIS).
        return data.decode(codec, errors="replace"), f"bytes invalid in {codec} replaced"
    label = repr(charset[:40]) if charset else "none"
    return data.decode("windows-1252", errors="replace"), f"charset {label}: decoded as Windows-1252"


def part_bytes(part: Message) -> tuple[bytes, str | None]:
    """The decoded payload of a leaf part, never raising (broken base64/QP included)."""
    problem = None
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # a hostile body must not crash the parser
        data = None
        problem = f"undecodable body ({type(exc).__name__}): kept as raw text"
    if not isinstance(data, bytes):
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    for defect in getattr(part, "defects", ()):
        name = type(defect).__name__
        if "Base64" in name or "Padding" in name:
            problem = "broken base64 body: decoded what was readable"
    return data, problem


def part_text(part: Message) -> tuple[str, list[str]]:
    """The text of a ``text/*`` part and the repairs it needed."""
    data, problem = part_bytes(part)
    problems = [problem] if problem else []
    try:
        charset = part.get_param("charset")
    except Exception:
        charset = None
    label = charset if isinstance(charset, str) else None
    text, note = decode_bytes(data, label)
    if note:
        problems.append(note)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""), problems


# ---------------------------------------------------------------- HTML to text

_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    ]
)
_PARAGRAPH = frozenset(
    {"p", "div", "blockquote", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
)
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "xml", "svg", "object"})
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


class _TextMaker(HTMLParser):
    """A small HTML-to-text converter: paragraphs, line breaks, list bullets, link
    targets, ``> `` before blockquoted lines (so quoted history stays recognisable)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.quote = 0
        self.pre = 0
        self.links: list[str | None] = []
        self.link_text: list[str] = []

    def _flush(self, paragraph: bool = False) -> None:
        line = "".join(self.current)
        self.current = []
        if not self.pre:
            line = re.sub(r"[ \t\f\v\u00a0]+", " ", line).strip()
        if line or self.pre:
            self.lines.append(("> " * self.quote + line).rstrip())
        if paragraph and self.lines and self.lines[-1]:
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self._flush()
        elif tag in _BLOCK:
            self._flush()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "li":
                self.current.append("- ")
            elif tag == "pre":
                self.pre += 1
        elif tag in ("td", "th") and self.current:
            self.current.append("  ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text = []
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.current.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in _BLOCK:
            self._flush(paragraph=tag in _PARAGRAPH)
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.link_text).strip()
            if href and href.startswith(("http://", "https://")) and href not in shown:
                self.current.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            for i, chunk in enumerate(data.split("\n")):
                if i:
                    self._flush()
                self.current.append(chunk)
        else:
            self.current.append(data.replace("\n", " ").replace("\r", " "))
        if self.links:
            self.link_text.append(data)

    def text(self) -> str:
        self._flush()
        out = "\n".join(self.lines)
        return re.sub(r"\n{3,}", "\n\n", out).strip()


def html_to_text(html: str, *, max_chars: int = 500_000) -> str:
    """Readable plain text for the bot (and the quote splitter) from an HTML body."""
    maker = _TextMaker()
    try:
        maker.feed(html[:max_chars])
        maker.close()
    except Exception:  # HTMLParser is lenient, but never let it crash us
        return re.sub(r"<[^>]*>", " ", html[:max_chars])
    return maker.text()


# ---------------------------------------------------------------- sanitising

_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def sanitise_html(html: str, *, max_chars: int = 500_000) -> str:
    """HTML safe to show in the console's sandboxed frame: no scripts, styles,
    forms, event handlers or unknown URL schemes; ``cid:`` images kept so the console
    can point them at the stored inline attachments."""
    return nh3.clean(
        html[:max_chars],
        clean_content_tags={"script", "style", "head", "title", "template", "noscript"},
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
