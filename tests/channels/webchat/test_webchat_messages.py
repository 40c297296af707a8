"""Messages: ack after commit, idempotent resends, and bad input answered clearly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


async def test_ack_is_sent_only_after_accept_returned(chat: Any, core: Any) -> None:
    ws, _ = await chat.greet()
    core.gate = asyncio.Event()
    await ws.send_json({"type": "message", "id": "m-1", "text": "hello"})
    await chat.until(lambda: len(core.inbounds) == 1)  # accept is running...
    await chat.no_frame(ws, 0.3)  # ...and nothing was acked yet
    core.gate.set()
    ack = await chat.recv(ws)
    assert ack["type"] == "ack" and ack["id"] == "m-1" and ack["duplicate"] is False


async def test_accept_failure_is_internal_error_and_no_ack(chat: Any, core: Any) -> None:
    ws, _ = await chat.greet()
    core.fail = RuntimeError("disk full")
    error = await chat.say(ws, "m-1", "hello")
    assert error["type"] == "error"
    assert error["code"] == "internal_error" and error["id"] == "m-1"
    await chat.no_frame(ws)
    core.fail = None
    ack = await chat.say(ws, "m-1", "hello")  # the widget retries with the same id
    assert ack["type"] == "ack" and ack["duplicate"] is False


async def test_resend_after_reconnect_is_acked_as_duplicate(chat: Any, core: Any) -> None:
    ws, welcome = await chat.greet()
    first = await chat.say(ws, "m-7", "is my order shipped?")
    await ws.close()
    ws2, _ = await chat.greet(welcome["token"])
    again = await chat.say(ws2, "m-7", "is my order shipped?")
    assert again["type"] == "ack"
    assert again["duplicate"] is True
    assert again["message_id"] == first["message_id"]
    assert {i.external_id for i in core.inbounds} == {f"{welcome['visitor_id']}:m-7"}
    conversation = core.conversations[welcome["visitor_id"]]
    assert len(core.messages[conversation]) == 1  # stored once


async def test_same_client_id_from_two_visitors_are_two_messages(chat: Any, core: Any) -> None:
    ws_a, _ = await chat.greet()
    ws_b, _ = await chat.greet()
    a = await chat.say(ws_a, "m-1", "from A")
    b = await chat.say(ws_b, "m-1", "from B")
    assert a["duplicate"] is False and b["duplicate"] is False
    assert a["message_id"] != b["message_id"]


async def test_message_before_hello_is_refused_then_hello_works(chat: Any, core: Any) -> None:
    ws = await chat.connect()
    error = await chat.say(ws, "m-1", "hi")
    assert error["code"] == "hello_required" and error["id"] == "m-1"
    assert core.inbounds == []
    await ws.send_json({"type": "hello", "token": None})
    assert (await chat.recv(ws))["type"] == "welcome"


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(
    chat: Any, core: Any
) -> None:
    ws, _ = await chat.greet()
    cases = [
        ("{oops", "invalid_json", None),
        ("[" * 2000 + "]" * 2000, "invalid_json", None),  # too deep for the parser
        ('{"type": "dance"}', "unknown_type", None),
        ('{"type": "message", "text": "no id"}', "invalid_frame", None),
        ('{"type": "message", "id": "m-2"}', "invalid_frame", "m-2"),
        ('{"type": "message", "id": "m-3", "text": ""}', "invalid_frame", "m-3"),
        ('{"type": "typing"}', "invalid_frame", None),
        ("42", "invalid_frame", None),
    ]
    for raw, code, client_id in cases:
        error = await chat.raw(ws, raw)
        assert (error["type"], error["code"], error["id"]) == ("error", code, client_id), raw
        assert error["message"]
    await ws.send_bytes(b"\x00\x01binary")
    error = await chat.recv(ws)
    assert error["code"] == "binary_not_supported"
    assert core.inbounds == []
    assert (await chat.say(ws, "m-9", "still works"))["type"] == "ack"


async def test_text_over_max_chars_is_too_large_and_not_stored(chat: Any, core: Any) -> None:
    ws, _ = await chat.greet()
    error = await chat.say(ws, "m-1", "x" * 201)
    assert (error["code"], error["id"]) == ("too_large", "m-1")
    assert "200" in error["message"]
    assert core.inbounds == []
    assert (await chat.say(ws, "m-2", "x" * 200))["type"] == "ack"


async def test_frame_over_max_bytes_is_too_large_and_socket_stays(chat: Any, core: Any) -> None:
    ws, _ = await chat.greet()
    big = json.dumps({"type": "message", "id": "m-1", "text": "y" * 5000})  # > 4096 bytes
    error = await chat.raw(ws, big)
    assert (error["code"], error["id"]) == ("too_large", "m-1")
    await ws.send_json({"type": "ping"})
    assert await chat.recv(ws) == {"type": "pong"}
    assert core.inbounds == []


async def test_huge_frame_is_closed_by_aiohttp_with_1009(chat: Any, core: Any) -> None:
    ws, _ = await chat.greet()
    await ws.send_str(json.dumps({"type": "message", "id": "m-1", "text": "z" * 20_000}))
    msg = await ws.receive(timeout=2)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    assert core.inbounds == []


async def test_ping_gets_pong(chat: Any) -> None:
    ws, _ = await chat.greet()
    await ws.send_json({"type": "ping"})
    assert await chat.recv(ws) == {"type": "pong"}


async def test_rate_limit_per_connection(chat: Any, core: Any, clock: Any) -> None:
    ws, _ = await chat.greet()
    for n in range(20):
        assert (await chat.say(ws, f"m-{n}", f"message {n}"))["type"] == "ack"
    error = await chat.say(ws, "m-20", "one too many")
    assert (error["code"], error["id"]) == ("rate_limited", "m-20")
    assert len(core.inbounds) == 20
    clock.advance(seconds=10)
    assert (await chat.say(ws, "m-20", "one too many"))["type"] == "ack"
