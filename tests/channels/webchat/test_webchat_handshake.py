"""Hello, welcome, tokens, history and who may connect."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web

from channels.webchat import WebChatChannel, create_channel
from gateway.models import AuthorKind, MessageKind, QuickReply
from gateway.protocols import Channel


async def test_create_channel_implements_the_channel_protocol(ctx: Any) -> None:
    channel = create_channel(ctx)
    assert isinstance(channel, WebChatChannel)
    assert isinstance(channel, Channel)
    assert channel.name == "webchat"


async def test_new_visitor_gets_a_token_and_an_empty_conversation(chat: Any, channel: Any) -> None:
    _ws, welcome = await chat.greet(None, lang="fr")
    assert welcome["visitor_id"]
    assert welcome["conversation_id"] is None
    assert welcome["history"] == []
    assert welcome["limits"] == {"max_frame_bytes": 4096, "max_message_chars": 200}
    assert channel.signer.verify(welcome["token"]).visitor_id == welcome["visitor_id"]
    assert channel.online(welcome["visitor_id"]) == 1


async def test_message_becomes_an_inbound_with_the_visitor_identity(
    chat: Any, core: Any, clock: Any
) -> None:
    ws, welcome = await chat.greet(None, lang="fr-CA", name="Ada")
    vid = welcome["visitor_id"]
    ack = await chat.say(ws, "m-1", "Mon vélo ne se déverrouille pas", quick_reply="unlock")
    assert ack == {"type": "ack", "id": "m-1", "message_id": ack["message_id"], "duplicate": False}
    [inbound] = core.inbounds
    assert inbound.channel == "webchat"
    assert inbound.external_id == f"{vid}:m-1"
    assert inbound.thread_key == vid
    assert (inbound.sender.channel, inbound.sender.address) == ("webchat", vid)
    assert inbound.sender.display_name == "Ada"
    assert inbound.text == "Mon vélo ne se déverrouille pas"
    assert inbound.language_hint == "fr"
    assert inbound.quick_reply == "unlock"
    assert inbound.received_at == clock.now()


async def test_visitor_without_a_name_is_called_visitor_and_a_short_id(
    chat: Any, core: Any
) -> None:
    ws, welcome = await chat.greet()
    await chat.say(ws, "m-1", "hello")
    assert core.inbounds[0].sender.display_name == f"Visitor {welcome['visitor_id'][:6]}"


async def test_resume_with_token_gets_own_history_only(chat: Any, core: Any) -> None:
    ws_a, welcome_a = await chat.greet()
    ws_b, welcome_b = await chat.greet()
    assert welcome_a["visitor_id"] != welcome_b["visitor_id"]
    await chat.say(ws_a, "a1", "A's secret question")
    core.reply(welcome_a["visitor_id"], "Here is A's answer",
               quick_replies=(QuickReply("solved", "Yes, solved"),))
    core.reply(welcome_a["visitor_id"], "internal note about A", author=AuthorKind.OPERATOR,
               kind=MessageKind.NOTE)
    await chat.say(ws_b, "b1", "B's question")
    await ws_a.close()
    await ws_b.close()

    _, again_a = await chat.greet(welcome_a["token"])
    assert again_a["visitor_id"] == welcome_a["visitor_id"]
    assert again_a["conversation_id"] == core.conversations[welcome_a["visitor_id"]]
    texts = [m["text"] for m in again_a["history"]]
    assert texts == ["A's secret question", "Here is A's answer"]  # no note, nothing of B
    bot = again_a["history"][1]
    assert bot["author"] == "bot" and bot["author_name"] == "Colibri bot"
    assert bot["quick_replies"] == [{"id": "solved", "label": "Yes, solved"}]
    assert set(bot) == {"id", "author", "author_name", "text", "quick_replies", "created_at"}

    _, again_b = await chat.greet(welcome_b["token"])
    assert [m["text"] for m in again_b["history"]] == ["B's question"]
    assert core.history_calls[-1] == ("webchat", welcome_b["visitor_id"])


async def test_resume_refreshes_the_token_for_the_same_visitor(
    chat: Any, channel: Any, clock: Any
) -> None:
    _, first = await chat.greet()
    clock.advance(days=20)
    _, second = await chat.greet(first["token"])
    clock.advance(days=20)  # 40 days after the first token, 20 after the refreshed one
    _, third = await chat.greet(second["token"])
    assert third["visitor_id"] == first["visitor_id"]


async def _refused(chat: Any, token: str) -> dict[str, Any]:
    ws = await chat.connect()
    await ws.send_json({"type": "hello", "token": token})
    error = await chat.recv(ws)
    closing = await ws.receive(timeout=2)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == 4401  # the widget drops its token and starts fresh
    return error


async def test_forged_token_is_refused_and_closed_with_4401(
    chat: Any, channel: Any, core: Any
) -> None:
    _, victim = await chat.greet()
    version, _vid, issued, sig = victim["token"].split(".")
    forged = ".".join([version, "attacker-chosen-id", issued, sig])
    error = await _refused(chat, forged)
    assert error["type"] == "error" and error["code"] == "invalid_token"
    assert error["message"]
    assert core.history_calls == []  # a new visitor has none to read; the forged token read nobody's
    assert channel.online("attacker-chosen-id") == 0
    assert (await _refused(chat, "garbage"))["code"] == "invalid_token"


async def test_expired_token_is_refused_with_token_expired(chat: Any, clock: Any) -> None:
    ws, welcome = await chat.greet()
    await ws.close()
    clock.advance(days=31)
    error = await _refused(chat, welcome["token"])
    assert error["code"] == "token_expired"
    _, fresh = await chat.greet(None)  # what the widget does next
    assert fresh["visitor_id"] != welcome["visitor_id"]


async def test_second_hello_is_refused_but_socket_stays_usable(chat: Any) -> None:
    ws, _ = await chat.greet()
    await ws.send_json({"type": "hello", "token": None})
    error = await chat.recv(ws)
    assert error["code"] == "invalid_frame"
    assert (await chat.say(ws, "m1", "still here"))["type"] == "ack"


async def test_history_failure_asks_the_widget_to_retry_later(chat: Any, core: Any) -> None:
    _, first = await chat.greet()  # a returning visitor: their history must be read
    core.history_fail = RuntimeError("database down")
    ws = await chat.connect()
    await ws.send_json({"type": "hello", "token": first["token"]})
    error = await chat.recv(ws)
    assert error["code"] == "internal_error"
    closing = await ws.receive(timeout=2)
    assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1013


# ------------------------------------------------------------------ origins


@pytest.fixture
def shop_only(settings: Any) -> None:
    settings.webchat.allowed_origins = ["https://shop.example/"]


async def _app(aiohttp_client: Any, channel: WebChatChannel) -> Any:
    app = web.Application()
    channel.setup_routes(app)
    return await aiohttp_client(app)


async def test_other_origins_are_refused_with_403(
    shop_only: None, aiohttp_client: Any, channel: WebChatChannel
) -> None:
    client = await _app(aiohttp_client, channel)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await client.ws_connect("/chat/ws", headers={"Origin": "https://evil.example"})
    assert info.value.status == 403
    ws = await client.ws_connect("/chat/ws", headers={"Origin": "https://shop.example"})
    await ws.send_json({"type": "hello", "token": None})
    assert (await ws.receive_json(timeout=2))["type"] == "welcome"
    own = f"http://{client.host}:{client.port}"
    ws2 = await client.ws_connect("/chat/ws", headers={"Origin": own})  # the demo page
    await ws2.close()


async def test_any_origin_is_accepted_when_none_is_configured(
    aiohttp_client: Any, channel: WebChatChannel
) -> None:
    client = await _app(aiohttp_client, channel)
    ws = await client.ws_connect("/chat/ws", headers={"Origin": "https://anywhere.example"})
    await ws.send_json({"type": "hello", "token": None})
    assert (await ws.receive_json(timeout=2))["type"] == "welcome"


async def test_chat_refuses_connections_before_start(
    aiohttp_client: Any, ctx: Any
) -> None:
    channel = WebChatChannel(ctx)
    client = await _app(aiohttp_client, channel)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await client.ws_connect("/chat/ws")
    assert info.value.status == 503


async def test_welcome_never_shows_notes_or_another_conversation_even_if_history_leaks(
    chat: Any, core: Any
) -> None:
    ws_a, welcome_a = await chat.greet()
    ws_b, _ = await chat.greet()
    await chat.say(ws_a, "a1", "A's message")
    await chat.say(ws_b, "b1", "B's message")
    core.reply(welcome_a["visitor_id"], "note", author=AuthorKind.OPERATOR, kind=MessageKind.NOTE)
    core.leak_everything = True  # a buggy store: every message of every conversation
    _, again = await chat.greet(welcome_a["token"])
    assert [m["text"] for m in again["history"]] == ["A's message"]
