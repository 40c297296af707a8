"""HTML pages as knowledge-base articles.

A saved help-centre page keeps its answer in ``<main>`` or ``<article>`` and wraps
it in navigation, banners, sidebars, forms and scripts.  :func:`parse_html`:

1. reads the metadata from the raw page: ``<html lang>``, ``<title>``, the first
   ``<h1>`` (one inside ``<main>``/``<article>`` preferred),
   ``<meta name="guichet-id">`` and ``<meta name="keywords">``;
2. sanitises the page with nh3 (ammonia): scripts, styles, event handlers,
   ``javascript:`` links, and the *content* of boilerplate elements (``nav``,
   ``header``, ``footer``, ``aside``, ``form``, ``head`` ...) are dropped;
3. keeps ``<main>`` if there is one, else the ``<article>`` elements, else the
   whole body, and writes it as light Markdown (headings, lists, links, bold,
   tables as ``a | b`` lines) - the text the bot answers with.

The title is the content ``<h1>``, else ``<title>``, else any ``<h1>``; the body
does not repeat it.  Errors are :class:`HtmlSourceError` with a reason an admin
can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset(
    [
        "main", "article", "section", "div", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul",
        "ol", "li", "dl", "dt", "dd", "pre", "code", "blockquote", "a", "strong", "b", "em", "i",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "figure", "figcaption", "span",
        "small", "sub", "sup", "kbd", "mark", "abbr"
    ]
)
BOILERPLATE_TAGS = frozenset(
    [
        "script", "style", "nav", "header", "footer", "aside", "form", "head", "title", "noscript",
        "template", "iframe", "object", "embed", "svg", "math", "canvas", "audio", "video", "button",
        "select", "textarea", "dialog", "menu"
    ]
)
_BLOCKS = frozenset(
    [
        "main", "article", "section", "div", "p", "blockquote", "table", "thead", "tbody", "tfoot",
        "figure", "figcaption", "caption", "dl", "hr"
    ]
)
_INLINE = {"strong": ("**", "**"), "b": ("**", "**"), "em": ("*", "*"), "i": ("*", "*"),
           "code": ("`", "`"), "a": ("", "")}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


class HtmlSourceError(ValueError):
    """Why a page cannot become an article."""


@dataclass(frozen=True, slots=True)
class HtmlDocument:
    title: str
    body: str  # light Markdown
    lang: str = ""  # from <html lang>, "" if absent
    id: str = ""  # from <meta name="guichet-id">, "" if absent
    tags: tuple[str, ...] = ()


def decode_html(data: bytes) -> str:
    """UTF-8 (with or without BOM), else the charset a ``<meta>`` declares."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = _CHARSET.search(data[:4096])
        if declared is None:
            raise HtmlSourceError(f"not valid UTF-8 ({exc.reason}) and no <meta charset>") from exc
        charset = declared.group(1).decode("ascii")
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError) as exc2:
            raise HtmlSourceError(f"cannot decode as {charset!r}: {exc2}") from exc2


def parse_html(text: str) -> HtmlDocument:
    meta = _Metadata()
    meta.feed(text)
    meta.close()
    title = _clean(meta.content_h1 or meta.title or meta.any_h1)
    if not title:
        raise HtmlSourceError("no title: add a <title> or an <h1>")
    clean = nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(BOILERPLATE_TAGS),
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )
    scope = "main" if "<main" in clean else "article" if "<article" in clean else None
    writer = _MarkdownWriter(scope, skip_heading=title)
    writer.feed(clean)
    writer.close()
    body = writer.markdown()
    if not body:
        raise HtmlSourceError("no text left in the page once navigation, scripts and forms are removed")
    return HtmlDocument(title=title, body=body, lang=meta.lang, id=meta.guichet_id,
                        tags=tuple(t for t in (_clean(k) for k in meta.keywords.split(",")) if t))


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Metadata(HTMLParser):
    """Reads what the sanitiser would drop: lang, title, metas, the title heading."""

    _NOT_CONTENT = frozenset({"nav", "footer", "aside", "script", "style", "form", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = self.title = self.guichet_id = self.keywords = ""
        self.content_h1 = self.any_h1 = ""
        self._open: list[str] = []  # element stack (approximate: HTML is forgiving)
        self._capture: str | None = None  # "title" | "h1" while inside one
        self._text: list[str] = []
        self._h1_in_content = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "html" and not self.lang:
            self.lang = values.get("lang", "").strip()
        elif tag == "meta":
            name = values.get("name", "").strip().lower()
            if name == "guichet-id" and not self.guichet_id:
                self.guichet_id = values.get("content", "").strip()
            elif name == "keywords" and not self.keywords:
                self.keywords = values.get("content", "")
        elif tag in ("title", "h1") and self._capture is None:
            if tag == "h1" and self._NOT_CONTENT.intersection(self._open):
                return
            self._capture, self._text = tag, []
            self._h1_in_content = bool({"main", "article"}.intersection(self._open))
        if tag not in ("meta", "link", "br", "hr", "img", "input", "base"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass
        if tag != self._capture:
            return
        text = _clean("".join(self._text))
        self._capture = None
        if tag == "title":
            self.title = self.title or text
        elif self._h1_in_content:
            self.content_h1 = self.content_h1 or text
        else:
            self.any_h1 = self.any_h1 or text

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._text.append(data)


class _MarkdownWriter(HTMLParser):
    """Sanitised HTML (only ALLOWED_TAGS, safe attributes) to light Markdown."""

    def __init__(self, scope: str | None, skip_heading: str) -> None:
        super().__init__(convert_charrefs=True)
        self.scope, self.depth = scope, 0
        self.skip_heading = skip_heading
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""  # what the next flushed line starts with ("## ", "- ", ...)
        self.lists: list[list[int]] = []  # per open list: [ordered (0/1), counter]
        self.inline: list[tuple[str, int, str]] = []  # open b/i/code/a: (tag, buffer pos, end)
        self.pre = 0
        self.cells = 0

    @property
    def on(self) -> bool:
        return self.scope is None or self.depth > 0

    def flush(self, blank: bool = False) -> None:
        raw = "".join(self.buf)
        text = raw.strip("\n") if self.pre else _clean(raw)
        if text:
            self.lines.append(self.prefix + text)
        self.buf, self.prefix = [], ""
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.scope:
            self.depth += 1
        if not self.on:
            return
        if tag in _HEADINGS or tag in _BLOCKS:
            self.flush(blank=True)
            if tag in _HEADINGS:
                self.prefix = "#" * _HEADINGS[tag] + " "
        elif tag in ("ul", "ol"):
            self.flush(blank=not self.lists)
            self.lists.append([int(tag == "ol"), 0])
        elif tag == "li":
            self.flush()
            indent = "  " * max(0, len(self.lists) - 1)
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                self.prefix = f"{indent}{self.lists[-1][1]}. "
            else:
                self.prefix = f"{indent}- "
        elif tag in ("dt", "dd", "tr"):
            self.flush()
            self.cells = 0
        elif tag in ("td", "th"):
            self.buf.append(" | " if self.cells else "")
            self.cells += 1
        elif tag == "pre":
            self.flush(blank=True)
            self.lines.append("```")
            self.pre += 1
        elif tag == "br" and self.pre:
            self.buf.append("\n")
        elif tag == "br":
            self.flush()
        elif tag in _INLINE and not (tag == "code" and self.pre):
            start, end = _INLINE[tag]
            if tag == "a":
                href = dict(attrs).get("href") or ""
                start, end = ("[", f"]({href})") if href else ("", "")
            self.inline.append((tag, len(self.buf), end))
            self.buf.append(start)

    def handle_endtag(self, tag: str) -> None:
        if self.on:
            self._end(tag)
        if tag == self.scope and self.depth:
            self.depth -= 1
            if not self.depth:
                self.flush(blank=True)

    def _end(self, tag: str) -> None:
        if tag in _HEADINGS:
            if self.skip_heading and tag == "h1" and _clean("".join(self.buf)) == self.skip_heading:
                self.buf, self.prefix, self.skip_heading = [], "", ""
            self.flush(blank=True)
        elif tag in _BLOCKS:
            self.flush(blank=True)
        elif tag in ("ul", "ol") and self.lists:
            self.flush()
            self.lists.pop()
            if not self.lists:
                self.flush(blank=True)
        elif tag in ("li", "dt", "dd", "tr"):
            self.flush()
        elif tag == "pre" and self.pre:
            self.flush()
            self.pre -= 1
            self.lines.append("```")
            self.flush(blank=True)
        elif tag in _INLINE and self.inline and self.inline[-1][0] == tag:
            _, start, end = self.inline.pop()
            if start >= len(self.buf):  # it spanned a block boundary: its text stays plain
                return
            if "".join(self.buf[start + 1 :]).strip():
                self.buf.append(end)
            else:  # empty emphasis or a link without text: nothing to mark
                self.buf[start] = ""

    def handle_data(self, data: str) -> None:
        if self.on:
            self.buf.append(data)

    def markdown(self) -> str:
        self.flush()
        text = "\n".join(self.lines).strip()
        return re.sub(r"\n{3,}", "\n\n", text)
