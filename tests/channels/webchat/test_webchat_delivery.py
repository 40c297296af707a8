"""Outbound delivery, several tabs, typing indicators, shutdown."""

from __future__ import annotations

from typing import Any

import aiohttp

from gateway.models import AuthorKind, DeliveryStatus, QuickReply
from gateway.protocols import Event


async def test_send_to_online_visitor_pushes_the_message(
    chat: Any, channel: Any, core: Any
) -> None:
    ws, welcome = await chat.greet()
    vid = welcome["visitor_id"]
    outbound = core.reply(vid, "**Bonjour** !\nComment puis-je aider ?",
                          quick_replies=(QuickReply("handoff", "Parler à un conseiller"),))
    delivery = await channel.send(outbound)
    assert delivery.status is DeliveryStatus.SENT
    frame = await chat.recv(ws)
    assert frame["type"] == "message"
    message = frame["message"]
    assert message == {
        "id": outbound.message_id,
        "author": "bot",
        "author_name": "Colibri bot",
        "text": "**Bonjour** !\nComment puis-je aider ?",
        "quick_replies": [{"id": "handoff", "label": "Parler à un conseiller"}],
        "created_at": outbound.created_at.isoformat(),
    }


async def test_send_to_offline_visitor_is_stored_and_shown_on_return(
    chat: Any, channel: Any, core: Any
) -> None:
    ws, welcome = await chat.greet()
    vid = welcome["visitor_id"]
    await chat.say(ws, "m-1", "I need help")
    await ws.close()
    await chat.until(lambda: channel.online(vid) == 0)
    outbound = core.reply(vid, "Alice here, how can I help?", author=AuthorKind.OPERATOR)
    delivery = await channel.send(outbound)
    assert delivery.status is DeliveryStatus.STORED
    _, back = await chat.greet(welcome["token"])
    assert [m["text"] for m in back["history"]] == ["I need help", "Alice here, how can I help?"]
    assert back["history"][1]["author"] == "operator"


async def test_send_reaches_only_the_addressed_visitor(chat: Any, channel: Any, core: Any) -> None:
    ws_a, welcome_a = await chat.greet()
    ws_b, _ = await chat.greet()
    await channel.send(core.reply(welcome_a["visitor_id"], "for A only"))
    assert (await chat.recv(ws_a))["message"]["text"] == "for A only"
    await chat.no_frame(ws_b)


async def test_two_tabs_both_receive_and_see_each_others_messages(
    chat: Any, channel: Any, core: Any, bus: Any
) -> None:
    tab1, welcome = await chat.greet()
    tab2, _ = await chat.greet(welcome["token"])
    vid = welcome["visitor_id"]
    assert channel.online(vid) == 2
    delivery = await channel.send(core.reply(vid, "to every tab"))
    assert delivery.status is DeliveryStatus.SENT
    assert (await chat.recv(tab1))["message"]["text"] == "to every tab"
    assert (await chat.recv(tab2))["message"]["text"] == "to every tab"

    ack = await chat.say(tab1, "m-1", "typed in tab 1")
    echo = await chat.recv(tab2)
    assert echo["type"] == "message"
    assert echo["message"]["id"] == ack["message_id"]
    assert echo["message"]["author"] == "customer"
    assert echo["message"]["text"] == "typed in tab 1"
    await chat.no_frame(tab1)  # the sending tab has its ack, no copy

    typing = Event("typing", {"conversation_id": core.conversations[vid], "author": "operator",
                              "on": True})
    await bus.publish(typing)
    assert (await chat.recv(tab1))["type"] == "typing"
    assert (await chat.recv(tab2))["type"] == "typing"

    await tab1.close()
    await chat.until(lambda: channel.online(vid) == 1)
    assert (await channel.send(core.reply(vid, "still one tab"))).status is DeliveryStatus.SENT
    assert (await chat.recv(tab2))["message"]["text"] == "still one tab"


async def test_send_for_another_channel_fails(channel: Any, core: Any) -> None:
    outbound = core.reply("someone", "hi")
    wrong = type(outbound)(**{**{f: getattr(outbound, f) for f in outbound.__dataclass_fields__},
                              "channel": "email"})
    assert (await channel.send(wrong)).status is DeliveryStatus.FAILED


async def test_visitor_typing_is_published_on_the_bus(chat: Any, bus: Any, core: Any) -> None:
    ws, welcome = await chat.greet()
    vid = welcome["visitor_id"]
    await ws.send_json({"type": "typing", "on": True})
    await chat.until(lambda: any(e.topic == "typing" for e in bus.published))
    [event] = [e for e in bus.published if e.topic == "typing"]
    assert event.data == {"channel": "webchat", "thread_key": vid, "conversation_id": None,
                          "author": "customer", "on": True}
    ack = await chat.say(ws, "m-1", "hello")
    await ws.send_json({"type": "typing", "on": False})
    await chat.until(lambda: len(bus.published) == 2)
    assert bus.published[1].data["on"] is False
    assert bus.published[1].data["conversation_id"] == core.seen[f"{vid}:m-1"].conversation_id
    assert ack["type"] == "ack"


async def test_closing_while_typing_publishes_typing_off(
    chat: Any, bus: Any, channel: Any
) -> None:
    ws, welcome = await chat.greet()
    await ws.send_json({"type": "typing", "on": True})
    await chat.until(lambda: len(bus.published) == 1)
    await ws.close()
    await chat.until(lambda: len(bus.published) == 2)
    assert bus.published[1].data["on"] is False
    assert bus.published[1].data["thread_key"] == welcome["visitor_id"]


async def test_operator_typing_reaches_the_visitor_of_that_conversation(
    chat: Any, bus: Any, core: Any
) -> None:
    ws_a, welcome_a = await chat.greet()
    ws_b, _ = await chat.greet()
    await chat.say(ws_a, "m-1", "hello")
    conversation_id = core.conversations[welcome_a["visitor_id"]]
    await bus.publish(Event("typing", {"conversation_id": conversation_id,
                                       "author": "operator", "on": True}))
    assert await chat.recv(ws_a) == {"type": "typing", "author": "operator", "on": True}
    await chat.no_frame(ws_b)
    # a customer's own typing event and unknown conversations are not relayed
    await bus.publish(Event("typing", {"conversation_id": conversation_id,
                                       "author": "customer", "on": True}))
    await bus.publish(Event("typing", {"conversation_id": 9999, "author": "operator",
                                       "on": True}))
    await chat.no_frame(ws_a)
    await bus.publish(Event("typing", {"conversation_id": conversation_id,
                                       "author": "operator", "on": False}))
    assert (await chat.recv(ws_a))["on"] is False


async def test_operator_typing_for_a_resumed_conversation_known_from_history(
    chat: Any, bus: Any, core: Any
) -> None:
    ws, welcome = await chat.greet()
    await chat.say(ws, "m-1", "hello")
    await ws.close()
    ws2, again = await chat.greet(welcome["token"])
    assert again["conversation_id"] is not None
    await bus.publish(Event("typing", {"conversation_id": again["conversation_id"],
                                       "author": "operator", "on": True}))
    assert (await chat.recv(ws2))["type"] == "typing"


async def test_stop_closes_every_socket_with_going_away(chat: Any, channel: Any) -> None:
    ws1, _ = await chat.greet()
    ws2 = await chat.connect()  # not greeted yet
    await channel.stop()
    for ws in (ws1, ws2):
        msg = await ws.receive(timeout=2)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == aiohttp.WSCloseCode.GOING_AWAY


async def test_stop_unsubscribes_from_the_real_bus(ctx: Any, core: Any) -> None:
    from dataclasses import replace

    from channels.webchat import WebChatChannel
    from gateway.flow.bus import InProcessEventBus

    bus = InProcessEventBus()
    channel = WebChatChannel(replace(ctx, bus=bus))
    await channel.start(core.accept)
    assert bus.subscriber_count == 1
    await channel.stop()
    assert bus.subscriber_count == 0
