"""Issue 11, acceptance 2, end to end: the real ``slack-bolt`` AsyncApp on the
application's aiohttp server, the real ``slack-sdk`` client posting to a local Slack
stand-in, signed Events API and interactivity requests, the real job workers.

A DM asking a KB question gets the article in the thread; "talk to a person" posts
the ticket to the operators' channel; Take over assigns it (a second operator is
refused); an operator's customer-visible reply reaches the customer, an internal one
does not; the console shows all of it and a console reply appears in the operators'
thread; a web-chat customer's ticket is answered from Slack too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.models import TicketStatus
from gateway.web import keys
from tests.channels.slack.conftest import ALICE, BOB, CAROL, OPS, SlackSite, make_site, ticket_root, until
from tests.support.slack_requests import block_action, channel_message, dm
from tests.support.slack_stub import SlackStub

pytestmark = pytest.mark.e2e

CAROL_DM = "D0CAROL"
ASKED = "1800000100.000100"


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    server = await SlackStub().start()
    server.add_user(CAROL, "Carol")
    yield server
    await server.stop()


@pytest.fixture
async def site(settings: Settings, stub: SlackStub, aiohttp_client: Any) -> AsyncIterator[SlackSite]:
    from channels.slack.customer_data import PART
    from gateway.customers.parts import unregister

    yield await make_site(settings, stub, aiohttp_client)
    unregister(PART)  # the app registered the Slack GDPR part process-wide


def buttons(blocks: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in blocks or []:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["text"]["text"]] = element
    return found


async def test_a_slack_customer_is_answered_handed_off_and_served_from_slack(site: SlackSite) -> None:
    stub, slack = site.stub, site.slack
    # 1. A DM asking a KB question: the article, in the thread of the question, with buttons.
    assert (await slack.event(dm(CAROL, "How do I reset my password?", ASKED, channel=CAROL_DM)))[0] == 200
    answer = (await until(lambda: stub.posted(CAROL_DM, ASKED), "the bot's answer in Carol's thread"))[0]
    assert "Title reset-password" in answer.text and "Answer of reset-password." in answer.text
    choices = buttons(answer.blocks)
    assert {b["value"] for b in choices.values()} == {"solved", "handoff"}
    handoff_label = next(label for label, b in choices.items() if b["value"] == "handoff")
    assert stub.posted(channel=OPS) == []  # no ticket yet

    # 2. "Talk to a person" (the quick-reply button): the ticket number in the thread,
    #    the ticket in the operators' channel with a summary, a console link and buttons.
    pressed = block_action(
        CAROL,
        choices[handoff_label]["action_id"],
        "handoff",
        channel=CAROL_DM,
        message_ts=answer.ts,
        thread_ts=ASKED,
        action_ts="1800000101.000001",
    )
    pressed["actions"][0]["text"] = {"type": "plain_text", "text": handoff_label}
    assert (await slack.action(pressed))[0] == 200
    root = await ticket_root(site)
    ticket = (await site.app[keys.OPERATORS].list_tickets())[0]
    told = await until(
        lambda: [m for m in stub.posted(CAROL_DM, ASKED) if ticket.number in m.text],
        "the ticket number told to Carol",
    )
    assert len(told) == 1
    assert ticket.number in root.text and ticket.subject in root.text
    root_buttons = buttons(root.blocks)
    assert (
        root_buttons["Open in the console"]["url"] == f"https://help.example.com/console/tickets/{ticket.id}"
    )
    assert {"Take over", "Resolve"} <= set(root_buttons)
    assert "reset" in json.dumps(root.blocks)  # the customer's words in the summary

    # 3. Take over assigns it; a second operator is told it is taken (the console's 409).
    take = block_action(ALICE, "guichet_take_over", str(ticket.id), channel=OPS, message_ts=root.ts)
    assert (await slack.action(take))[0] == 200
    taken = await site.app[keys.OPERATORS].get_ticket(ticket.id)
    assert taken.assignee_name == "Alice" and taken.status is TicketStatus.OPEN
    await until(lambda: "Take over" not in buttons(root.blocks), "the ticket message updated")
    snatch = block_action(BOB, "guichet_take_over", str(ticket.id), channel=OPS, message_ts=root.ts)
    assert (await slack.action(snatch))[0] == 200
    refused = await until(lambda: [e for e in stub.ephemeral if e["user"] == BOB], "Bob told it is taken")
    assert "already taken by another operator" in refused[0]["text"]
    assert (await site.app[keys.OPERATORS].get_ticket(ticket.id)).assignee_name == "Alice"

    # 4. In the ticket's thread: internal by default, to the customer with "reply:".
    before = len(stub.posted(CAROL_DM, ASKED))
    note = channel_message(
        ALICE, "Checking her account in the CRM", "1800000102.000001", OPS, thread_ts=root.ts
    )
    assert (await slack.event(note))[0] == 200
    reply = channel_message(
        ALICE, "reply: Your password is reset, try again", "1800000103.000001", OPS, thread_ts=root.ts
    )
    assert (await slack.event(reply))[0] == 200
    relayed = await until(lambda: stub.posted(CAROL_DM, ASKED)[before:], "Alice's reply in Carol's thread")
    assert [m.text for m in relayed] == ["Your password is reset, try again"]
    assert relayed[0].username == "Alice"
    assert not any("CRM" in m.text for m in stub.posted(CAROL_DM))  # the note never reached Carol
    shown = {("1800000102.000001", "lock"), ("1800000103.000001", "outbox_tray")}
    await until(lambda: shown <= {(r["timestamp"], r["name"]) for r in stub.reactions}, "the outcomes shown")

    # 5. The console shows all of it; a console reply appears in the operators' thread.
    await site.login("alice")
    status, conv = await site.api("GET", f"/api/conversations/{ticket.conversation_id}")
    assert status == 200
    texts = [(m["author"], m["kind"], m["text"]) for m in conv["messages"]]
    assert ("customer", "message", "How do I reset my password?") in texts
    assert any(a == "bot" and "Title reset-password" in t for a, _, t in texts)
    assert any(k == "event" and "Alice took over" in t for _, k, t in texts)
    assert ("operator", "note", "Checking her account in the CRM") in texts
    assert ("operator", "message", "Your password is reset, try again") in texts
    status, _ = await site.api(
        "POST", f"/api/conversations/{ticket.conversation_id}/reply", {"text": "Anything else I can do?"}
    )
    assert status == 201
    await until(
        lambda: [m for m in stub.posted(OPS, root.ts) if "Anything else I can do?" in m.text],
        "the console reply mirrored into the operators' thread",
    )
    await until(
        lambda: [m for m in stub.posted(CAROL_DM, ASKED) if m.text == "Anything else I can do?"],
        "the console reply delivered to Carol",
    )
    mirrored = [m.text for m in stub.posted(OPS, root.ts)]
    assert not any("Checking her account" in t for t in mirrored)  # written there: not echoed back


async def test_a_web_chat_customers_ticket_is_answered_from_slack(site: SlackSite) -> None:
    stub, slack = site.stub, site.slack
    async with aiohttp.ClientSession() as http, http.ws_connect(str(site.client.make_url("/chat/ws"))) as ws:
        await ws.send_json({"type": "hello", "token": None, "name": "Dana"})
        welcome = await ws.receive_json(timeout=10)
        assert welcome["type"] == "welcome"
        await ws.send_json({"type": "message", "id": "m-1", "text": "I want to talk to a person"})
        root = await ticket_root(site)
        assert "webchat" in json.dumps(root.blocks) and "Dana" in json.dumps(root.blocks)
        ticket = (await site.app[keys.OPERATORS].list_tickets())[0]
        internal = channel_message(
            ALICE, "new customer, be nice", "1800000200.000001", OPS, thread_ts=root.ts
        )
        answer = channel_message(
            ALICE,
            "REPLY: Hello Dana, Alice here. How can I help?",
            "1800000201.000001",
            OPS,
            thread_ts=root.ts,
        )
        assert (await slack.event(internal))[0] == 200
        assert (await slack.event(answer))[0] == 200
        seen: list[dict[str, Any]] = []
        while not any(f.get("message", {}).get("author") == "operator" for f in seen):
            seen.append(await ws.receive_json(timeout=10))
        operator = [f["message"] for f in seen if f.get("message", {}).get("author") == "operator"]
        assert [m["text"] for m in operator] == ["Hello Dana, Alice here. How can I help?"]
        assert operator[0]["author_name"] == "Alice"
        assert not any("be nice" in json.dumps(f) for f in seen)  # the note stays internal
    taken = await site.app[keys.OPERATORS].get_ticket(ticket.id)
    assert taken.assignee_name == "Alice"  # replying took the ticket, as in the console
    assert stub.posted(channel=CAROL_DM) == []
