"""The web-chat wire protocol: JSON text frames over one WebSocket (``GET /chat/ws``).

Full reference with examples: ``channels/webchat/PROTOCOL.md``.  In short:

Client → server
    ``{"type": "hello", "token": str | null, "lang": "fr" | "en" | ..., "name": str?}``
        must come first.  ``token`` null: a new visitor.  A bad or expired token is
        answered with an ``invalid_token`` / ``token_expired`` error and the socket
        is closed with code 4401: the client drops its token and reconnects with null.
    ``{"type": "message", "id": str, "text": str, "quick_reply": str?}``
        ``id`` is chosen by the client (``[A-Za-z0-9._:-]{1,64}``) and is the
        idempotency key: resending the same id after a reconnect stores nothing new.
    ``{"type": "typing", "on": bool}``
    ``{"type": "ping"}``

Server → client
    ``{"type": "welcome", "token", "visitor_id", "conversation_id", "history", "limits"}``
    ``{"type": "ack", "id", "message_id", "duplicate"}``: only once the message is
        committed.
    ``{"type": "message", "message": {"id", "author", "author_name", "text",
        "quick_replies": [{"id", "label"}], "created_at"}}``
    ``{"type": "typing", "author": "operator", "on": bool}``
    ``{"type": "pong"}``
    ``{"type": "error", "code", "message", "id"}``: see :class:`ErrorCode`.

Unknown fields are ignored (forward compatible); every other mistake gets an error
frame and the connection stays open.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
MAX_NAME_CHARS = 80
MAX_LANG_CHARS = 35
CLOSE_BAD_TOKEN = 4401  # after invalid_token / token_expired: drop the token, reconnect
# C0 control characters except tab and newline (\r is normalised away first).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ErrorCode(enum.StrEnum):
    INVALID_JSON = "invalid_json"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FRAME = "invalid_frame"
    TOO_LARGE = "too_large"
    BINARY_NOT_SUPPORTED = "binary_not_supported"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
    TOKEN_EXPIRED = "token_expired"  # noqa: S105
    HELLO_REQUIRED = "hello_required"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"


class ProtocolError(Exception):
    """A frame the server refuses; becomes an ``error`` frame, never a crash."""

    def __init__(self, code: ErrorCode, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id

    def frame(self) -> dict[str, Any]:
        return error_frame(self.code, self.message, self.client_id)


# ------------------------------------------------------------------ client frames


@dataclass(frozen=True, slots=True)
class Hello:
    token: str | None
    lang: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    text: str
    quick_reply: str | None = None


@dataclass(frozen=True, slots=True)
class Typing:
    on: bool


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientFrame = Hello | ChatMessage | Typing | Ping


@dataclass(frozen=True, slots=True)
class Limits:
    max_frame_bytes: int
    max_message_chars: int


def _invalid(message: str, client_id: str | None = None) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_FRAME, message, client_id)


def _valid_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates ("\ud800") survive json.loads
        return False
    return True


def _optional_str(data: dict[str, Any], key: str, client_id: str | None = None) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _valid_unicode(value):
        raise _invalid(f"'{key}' must be a string", client_id)
    return value


def clean_text(text: str) -> str:
    """Line endings to ``\\n``, other control characters removed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _hello(data: dict[str, Any]) -> Hello:
    token = _optional_str(data, "token")
    lang = _optional_str(data, "lang")
    if lang is not None:
        if len(lang) > MAX_LANG_CHARS or not LANG.fullmatch(lang):
            raise _invalid("'lang' must be a language tag such as 'fr' or 'en-GB'")
        lang = re.split(r"[-_]", lang, maxsplit=1)[0].lower()
    name = _optional_str(data, "name")
    if name is not None:
        name = " ".join(clean_text(name).split())
        if len(name) > MAX_NAME_CHARS:
            raise _invalid(f"'name' must be at most {MAX_NAME_CHARS} characters")
    return Hello(token=token, lang=lang or None, name=name or None)


def _message(data: dict[str, Any], limits: Limits) -> ChatMessage:
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not CLIENT_ID.fullmatch(raw_id):
        raise _invalid("'id' must be a string of 1 to 64 letters, digits or . _ : -")
    text = data.get("text")
    if not isinstance(text, str) or not _valid_unicode(text):
        raise _invalid("'text' must be a string", raw_id)
    text = clean_text(text)
    if len(text) > limits.max_message_chars:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"message is longer than {limits.max_message_chars} characters ({len(text)}): "
            "not saved, nothing was cut; shorten it or send it in parts",
            raw_id,
        )
    if not text.strip():
        raise _invalid("'text' must not be empty", raw_id)
    quick_reply = _optional_str(data, "quick_reply", raw_id)
    if quick_reply is not None and not CLIENT_ID.fullmatch(quick_reply):
        raise _invalid("'quick_reply' must be a quick-reply id", raw_id)
    return ChatMessage(id=raw_id, text=text, quick_reply=quick_reply)


def parse_frame(raw: str, limits: Limits) -> ClientFrame:
    """One text frame to a typed frame; raises :class:`ProtocolError`."""
    if len(raw.encode("utf-8", "surrogatepass")) > limits.max_frame_bytes:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"frame is larger than {limits.max_frame_bytes} bytes: a message may have at most "
            f"{limits.max_message_chars} characters; not saved, nothing was cut",
            client_id_of(raw),
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError(ErrorCode.INVALID_JSON, "frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise _invalid("frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise _invalid("frame needs a string 'type'")
    if kind == "hello":
        return _hello(data)
    if kind == "message":
        return _message(data, limits)
    if kind == "typing":
        on = data.get("on")
        if not isinstance(on, bool):
            raise _invalid("'on' must be true or false")
        return Typing(on=on)
    if kind == "ping":
        return Ping()
    shown = kind[:32] if _valid_unicode(kind[:32]) else "?"
    raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {shown!r}")


def client_id_of(raw: str) -> str | None:
    """Best effort: the ``id`` of a frame that failed later checks."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and CLIENT_ID.fullmatch(value) else None


# ------------------------------------------------------------------ server frames


def error_frame(code: ErrorCode, message: str, client_id: str | None = None) -> dict[str, Any]:
    return {"type": "error", "code": code.value, "message": message, "id": client_id}


def welcome_frame(
    *,
    token: str,
    visitor_id: str,
    conversation_id: int | None,
    history: list[dict[str, Any]],
    limits: Limits,
) -> dict[str, Any]:
    return {
        "type": "welcome",
        "token": token,
        "visitor_id": visitor_id,
        "conversation_id": conversation_id,
        "history": history,
        "limits": {
            "max_frame_bytes": limits.max_frame_bytes,
            "max_message_chars": limits.max_message_chars,
        },
    }


def ack_frame(client_id: str, message_id: int, duplicate: bool) -> dict[str, Any]:
    return {"type": "ack", "id": client_id, "message_id": message_id, "duplicate": duplicate}


def message_frame(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "message": message}


def typing_frame(on: bool, author: str = "operator") -> dict[str, Any]:
    return {"type": "typing", "author": author, "on": on}


PONG: dict[str, Any] = {"type": "pong"}


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
