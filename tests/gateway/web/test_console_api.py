"""The console's JSON API: reads, operator actions, validation, error mapping."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from gateway.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from gateway.models import TicketStatus
from tests.gateway.web.conftest import Console, seed, ticket_view


@pytest.fixture
async def api(console: Console) -> Api:
    seed(
        console.operators,
        ticket_view(1),
        [("customer", "message", "Help me"), ("operator", "note", "Known issue")],
    )
    seed(console.operators, ticket_view(2, status=TicketStatus.RESOLVED))
    return Api(console, await console.login())


class Api:
    def __init__(self, console: Console, csrf: str) -> None:
        self.console = console
        self.csrf = csrf

    async def get(self, path: str) -> tuple[int, Any]:
        response = await self.console.client.get(path)
        return response.status, await response.json()

    async def post(self, path: str, body: Any = None, raw: str | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf}
        if raw is not None:
            response = await self.console.client.post(
                path, data=raw, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            response = await self.console.client.post(path, json=body, headers=headers)
        return response.status, await response.json()


async def test_me(api: Api) -> None:
    status, body = await api.get("/api/me")
    assert status == 200
    assert body["user"] == {"id": api.console.user.id, "name": "alice", "display_name": "Alice",
                            "role": "operator"}


async def test_list_tickets_defaults_to_the_open_queue(api: Api) -> None:
    status, body = await api.get("/api/tickets")
    assert status == 200
    assert [t["number"] for t in body["tickets"]] == ["G-0001"]


async def test_list_tickets_filters(api: Api) -> None:
    status, body = await api.get("/api/tickets?status=resolved&queue=L1")
    assert status == 200
    assert [t["number"] for t in body["tickets"]] == ["G-0002"]
    assert ("list_tickets", (TicketStatus.RESOLVED,), "L1") in api.console.operators.calls
    status, body = await api.get("/api/tickets?status=new,open&queue=L2")
    assert body["tickets"] == []


async def test_list_tickets_rejects_unknown_status(api: Api) -> None:
    status, body = await api.get("/api/tickets?status=new,bogus")
    assert status == 400
    assert body["error"] == "invalid_status"


async def test_get_ticket_and_404(api: Api) -> None:
    status, body = await api.get("/api/tickets/1")
    assert (status, body["ticket"]["subject"]) == (200, "Cannot log in")
    status, body = await api.get("/api/tickets/999")
    assert status == 404
    assert body["error"] == "not_found" and body["message"]


async def test_conversation_includes_internal_notes_and_clean_html(api: Api) -> None:
    history = api.console.operators.history[11]
    history[0] = replace(history[0], html="<b>Help</b><script>x()</script>")
    status, body = await api.get("/api/conversations/11")
    assert status == 200
    assert body["conversation"]["customer_name"] == "Bob"
    assert [(m["author"], m["kind"]) for m in body["messages"]] == [
        ("customer", "message"), ("operator", "note")
    ]
    assert body["messages"][0]["html"] == "<b>Help</b>"
    assert ("messages", 11, True) in api.console.operators.calls


async def test_take_over(api: Api) -> None:
    status, body = await api.post("/api/tickets/1/take")
    assert status == 200
    assert body["ticket"]["status"] == "open"
    assert body["ticket"]["assignee_id"] == api.console.user.id
    assert ("take_over", 1, api.console.user.id) in api.console.operators.calls


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ConflictError("already taken by bob"), 409, "conflict"),
        (NotFoundError("no ticket"), 404, "not_found"),
        (InvalidInputError("bad"), 400, "invalid_input"),
        (ForbiddenError("admins only"), 403, "forbidden"),
    ],
)
async def test_core_errors_map_to_http(api: Api, error: Exception, status: int, code: str) -> None:
    api.console.operators.fail["take_over"] = error
    got, body = await api.post("/api/tickets/1/take")
    assert got == status
    assert body == {"error": code, "message": str(error)}


async def test_reply_sends_stripped_text(api: Api) -> None:
    status, body = await api.post("/api/conversations/11/reply", {"text": "  On it!  "})
    assert status == 201
    assert body["message"]["text"] == "On it!"
    assert body["message"]["kind"] == "message"
    assert ("reply", 11, api.console.user.id, "On it!") in api.console.operators.calls


async def test_note_is_internal(api: Api) -> None:
    status, body = await api.post("/api/conversations/11/notes", {"text": "Call back Monday"})
    assert status == 201
    assert body["message"]["kind"] == "note"
    assert ("add_note", 11, api.console.user.id, "Call back Monday") in api.console.operators.calls


@pytest.mark.parametrize(
    ("body", "raw", "code"),
    [
        ({"text": ""}, None, "invalid_text"),
        ({"text": "   \n "}, None, "invalid_text"),
        ({}, None, "invalid_text"),
        ({"text": 42}, None, "invalid_text"),
        ({"text": "x" * 10_001}, None, "text_too_long"),
        (None, "{not json", "invalid_json"),
        (None, '["a list"]', "invalid_json"),
    ],
)
@pytest.mark.parametrize("path", ["/api/conversations/11/reply", "/api/conversations/11/notes"])
async def test_text_is_validated(api: Api, path: str, body: Any, raw: str | None, code: str) -> None:
    status, answer = await api.post(path, body, raw=raw)
    assert status == 400
    assert answer["error"] == code and answer["message"]
    assert api.console.operators.actions == []


async def test_longest_allowed_text_passes(api: Api) -> None:
    status, _ = await api.post("/api/conversations/11/reply", {"text": "x" * 10_000})
    assert status == 201


async def test_reply_to_unknown_conversation_is_404(api: Api) -> None:
    status, body = await api.post("/api/conversations/999/reply", {"text": "hello"})
    assert (status, body["error"]) == (404, "not_found")


async def test_resolve_and_hand_back(api: Api) -> None:
    status, body = await api.post("/api/tickets/1/resolve")
    assert (status, body["ticket"]["status"]) == (200, "resolved")
    status, body = await api.post("/api/conversations/11/handback")
    assert (status, body["conversation"]["state"]) == (200, "bot")
    assert api.console.operators.actions == ["resolve", "hand_back"]


async def test_typing_is_published_on_the_bus(api: Api) -> None:
    events = api.console.bus.subscribe("typing")
    status, _ = await api.post("/api/conversations/11/typing", {"on": True})
    assert status == 200
    event = await asyncio.wait_for(events.__anext__(), 1)
    assert event.topic == "typing"
    assert event.data["conversation_id"] == 11
    assert event.data["author"] == "operator"
    assert event.data["on"] is True
    assert event.data["user_id"] == api.console.user.id
    assert (event.data["channel"], event.data["thread_key"]) == ("webchat", "chat-11")


@pytest.mark.parametrize("body", [{"on": "yes"}, {}, {"on": 1}])
async def test_typing_needs_a_boolean(api: Api, body: dict[str, Any]) -> None:
    events = api.console.bus.subscribe("typing")
    status, answer = await api.post("/api/conversations/11/typing", body)
    assert (status, answer["error"]) == (400, "invalid_on")
    assert events.queue.empty()


async def test_typing_on_unknown_conversation_is_404(api: Api) -> None:
    status, _ = await api.post("/api/conversations/999/typing", {"on": False})
    assert status == 404


async def test_json_never_carries_raw_markup(api: Api) -> None:
    api.console.operators.tickets[1] = ticket_view(1, subject="<script>alert(1)</script>")
    response = await api.console.client.get("/api/tickets/1")
    raw = await response.text()
    assert "<script>" not in raw
    assert (await response.json())["ticket"]["subject"] == "<script>alert(1)</script>"
    assert response.content_type == "application/json"
