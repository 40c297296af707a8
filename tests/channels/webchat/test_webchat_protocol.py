"""Frame parsing: every bad frame becomes a typed error, never an exception leak."""

from __future__ import annotations

import json

import pytest

from channels.webchat.protocol import (
    ChatMessage,
    ErrorCode,
    Hello,
    Limits,
    Ping,
    ProtocolError,
    Typing,
    parse_frame,
)

LIMITS = Limits(max_frame_bytes=1024, max_message_chars=50)


def parse(frame: object) -> object:
    return parse_frame(json.dumps(frame), LIMITS)


def refused(raw: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_frame(raw, LIMITS)
    return info.value


def test_valid_frames_parse_to_typed_objects() -> None:
    assert parse({"type": "hello", "token": None, "lang": "fr-FR", "name": " Ada  L. "}) == Hello(
        None, "fr", "Ada L."
    )
    assert parse({"type": "hello"}) == Hello(None, None, None)
    assert parse({"type": "message", "id": "m-1", "text": "Bonjour", "quick_reply": "solved"}) == (
        ChatMessage("m-1", "Bonjour", "solved")
    )
    assert parse({"type": "typing", "on": True}) == Typing(True)
    assert parse({"type": "ping", "future_field": 1}) == Ping()


def test_text_is_cleaned_of_control_characters() -> None:
    frame = parse({"type": "message", "id": "a", "text": "line1\r\nline2\x00\x07\tend"})
    assert isinstance(frame, ChatMessage)
    assert frame.text == "line1\nline2\tend"


@pytest.mark.parametrize(
    ("raw", "code", "client_id"),
    [
        ("{not json", ErrorCode.INVALID_JSON, None),
        ("[" * 3000 + "]" * 3000, ErrorCode.TOO_LARGE, None),
        ("[" * 500 + "]" * 500, ErrorCode.INVALID_FRAME, None),
        ('"just a string"', ErrorCode.INVALID_FRAME, None),
        ('{"type": 3}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "dance"}', ErrorCode.UNKNOWN_TYPE, None),
        ('{"type": "message", "text": "hi"}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "message", "id": "bad id!", "text": "hi"}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "message", "id": "m1"}', ErrorCode.INVALID_FRAME, "m1"),
        ('{"type": "message", "id": "m1", "text": 5}', ErrorCode.INVALID_FRAME, "m1"),
        ('{"type": "message", "id": "m1", "text": "   "}', ErrorCode.INVALID_FRAME, "m1"),
        ('{"type": "message", "id": "m1", "text": "\\ud800"}', ErrorCode.INVALID_FRAME, "m1"),
        ('{"type": "message", "id": "m1", "text": "x", "quick_reply": 1}',
         ErrorCode.INVALID_FRAME, "m1"),
        ('{"type": "message", "id": "m1", "text": "' + "x" * 51 + '"}', ErrorCode.TOO_LARGE, "m1"),
        ('{"type": "message", "id": "m1", "text": "' + "x" * 1100 + '"}',
         ErrorCode.TOO_LARGE, "m1"),
        ('{"type": "typing"}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "typing", "on": "yes"}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "hello", "token": 12}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "hello", "lang": "<script>"}', ErrorCode.INVALID_FRAME, None),
        ('{"type": "hello", "name": "' + "n" * 81 + '"}', ErrorCode.INVALID_FRAME, None),
    ],
)
def test_bad_frames_get_the_right_error(raw: str, code: ErrorCode, client_id: str | None) -> None:
    error = refused(raw)
    assert error.code is code
    frame = error.frame()
    assert frame["type"] == "error" and frame["code"] == code.value
    assert frame["id"] == client_id
    assert frame["message"]  # a human-readable reason


def test_deep_nesting_is_invalid_json_not_a_crash() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    error = refused_big(deep)
    assert error.code is ErrorCode.INVALID_JSON


def refused_big(raw: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_frame(raw, Limits(max_frame_bytes=1_000_000, max_message_chars=50))
    return info.value


def test_frame_size_counts_utf8_bytes_not_characters() -> None:
    text = "é" * 40  # 40 characters, 80 bytes
    limits = Limits(max_frame_bytes=100, max_message_chars=50)
    raw = json.dumps({"type": "message", "id": "m", "text": text}, ensure_ascii=False)
    assert len(raw) < 100 < len(raw.encode())
    with pytest.raises(ProtocolError) as info:
        parse_frame(raw, limits)
    assert info.value.code is ErrorCode.TOO_LARGE
