"""Plain-text articles, ids from file paths, and article languages.

A ``.txt`` file is an article: its first non-empty line is the title (a leading
Markdown ``#`` is dropped), the rest is the body.  Files without an id of their
own (plain text, HTML without ``<meta name="guichet-id">``) get the slug of
their path inside the knowledge-base directory: ``help/Réinitialiser mot de
passe.txt`` is ``help-reinitialiser-mot-de-passe``.

Languages are normalised to their primary subtag (``fr-FR`` -> ``fr``); an
article that declares none gets the one :func:`kb_index.language.detect` finds
in its title and body.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

from kb_index.language import detect

MAX_TITLE_CHARS = 200
_LANG = re.compile(r"^[a-z]{2,3}$")


class TextSourceError(ValueError):
    """Why a plain-text file cannot become an article."""


def parse_text(text: str) -> tuple[str, str]:
    """``(title, body)`` of a plain-text article."""
    lines = text.strip().splitlines()
    if not lines:
        raise TextSourceError("empty file")
    title = lines[0].strip().lstrip("#").strip()
    body = "\n".join(lines[1:]).strip()
    if not title:
        raise TextSourceError("the first line (the title) is empty")
    if len(title) > MAX_TITLE_CHARS:
        raise TextSourceError(
            f"the first line is the title and is {len(title)} characters long (at most "
            f"{MAX_TITLE_CHARS}): start the file with a short title line"
        )
    if not body:
        raise TextSourceError("only a title: the article has no answer text after the first line")
    return title, body


def slugify(text: str) -> str:
    """Lower case ASCII letters and digits separated by single hyphens."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def path_slug(relative_path: str | PurePath) -> str:
    """The id of an article that has none: its path without the extension, slugged."""
    path = PurePath(relative_path)
    return slugify("-".join((*path.parent.parts, path.stem)))


def normalise_lang(value: str) -> str:
    """``fr-FR`` -> ``fr``; "" for anything that is not a language tag."""
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if _LANG.match(primary) else ""


def article_lang(declared: str, title: str, body: str) -> str:
    """The declared language if it is one, else the detected one."""
    return normalise_lang(declared) or detect(f"{title}\n{body}")
