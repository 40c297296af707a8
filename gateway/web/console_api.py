"""The console's JSON API under ``/api``: tickets, conversations, operator actions.

Session authentication and CSRF are enforced by :mod:`gateway.web.security`.
Errors are ``{"error": code, "message": text}`` with the status of the core
error: not found 404, conflict 409, invalid input 400, forbidden 403
(:func:`gateway.web.helpers.api`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.models import TicketStatus
from gateway.protocols import Event
from gateway.views import ConversationView, MessageView, UserView
from gateway.web.helpers import BadRequest, api, json_body, text_body
from gateway.web.keys import BUS, OPERATORS
from gateway.web.request_fields import path_id
from gateway.web.security import USER, json_response, sanitize_html

# ---------------------------------------------------------------- helpers


def _user(request: web.Request) -> UserView:
    return request[USER]


def user_dict(user: UserView) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name or user.name,
        "role": user.role,
    }


def message_dict(message: MessageView) -> dict[str, Any]:
    """A message for operators; email HTML sanitised (shown in a sandboxed frame)."""
    data = message.to_operator()
    data["html"] = sanitize_html(message.html) if message.html else None
    return data


def conversation_dict(conversation: ConversationView) -> dict[str, Any]:
    return conversation.to_dict()


def parse_statuses(raw: str | None) -> list[TicketStatus]:
    if not raw:
        return [TicketStatus.NEW, TicketStatus.OPEN]
    try:
        return [TicketStatus(part.strip()) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        allowed = ", ".join(s.value for s in TicketStatus)
        raise BadRequest("invalid_status", f"status must be among: {allowed}") from exc


# --------------------------------------------------------------- handlers


@api
async def me(request: web.Request) -> web.StreamResponse:
    return json_response({"user": user_dict(_user(request))})


@api
async def list_tickets(request: web.Request) -> web.StreamResponse:
    statuses = parse_statuses(request.query.get("status"))
    queue = request.query.get("queue") or None
    tickets = await request.app[OPERATORS].list_tickets(statuses, queue)
    return json_response({"tickets": [t.to_dict() for t in tickets]})


@api
async def get_ticket(request: web.Request) -> web.StreamResponse:
    ticket = await request.app[OPERATORS].get_ticket(path_id(request))
    return json_response({"ticket": ticket.to_dict()})


@api
async def get_conversation(request: web.Request) -> web.StreamResponse:
    operators = request.app[OPERATORS]
    conversation = await operators.get_conversation(path_id(request))
    messages = await operators.messages(conversation.id, include_internal=True)
    return json_response(
        {
            "conversation": conversation_dict(conversation),
            "messages": [message_dict(m) for m in messages],
        }
    )


@api
async def take(request: web.Request) -> web.StreamResponse:
    ticket = await request.app[OPERATORS].take_over(path_id(request), _user(request))
    return json_response({"ticket": ticket.to_dict()})


@api
async def reply(request: web.Request) -> web.StreamResponse:
    text = await text_body(request)
    message = await request.app[OPERATORS].reply(path_id(request), _user(request), text)
    return json_response({"message": message_dict(message)}, status=201)


@api
async def add_note(request: web.Request) -> web.StreamResponse:
    text = await text_body(request)
    message = await request.app[OPERATORS].add_note(path_id(request), _user(request), text)
    return json_response({"message": message_dict(message)}, status=201)


@api
async def resolve(request: web.Request) -> web.StreamResponse:
    ticket = await request.app[OPERATORS].resolve(path_id(request), _user(request))
    return json_response({"ticket": ticket.to_dict()})


@api
async def hand_back(request: web.Request) -> web.StreamResponse:
    conversation = await request.app[OPERATORS].hand_back(path_id(request), _user(request))
    return json_response({"conversation": conversation_dict(conversation)})


@api
async def typing(request: web.Request) -> web.StreamResponse:
    """The operator is (or stopped) typing: relayed to the customer's channel and to
    the other operators."""
    on = (await json_body(request)).get("on")
    if not isinstance(on, bool):
        raise BadRequest("invalid_on", '"on" must be true or false.')
    conversation = await request.app[OPERATORS].get_conversation(path_id(request))
    user = _user(request)
    await request.app[BUS].publish(
        Event(
            "typing",
            {
                "conversation_id": conversation.id,
                "channel": conversation.channel,  # lets the channel find the visitor
                "thread_key": conversation.thread_key,
                "author": "operator",
                "on": on,
                "user_id": user.id,
                "name": user.display_name or user.name,
            },
        )
    )
    return json_response({"ok": True})


def setup(app: web.Application) -> None:
    ticket = r"/api/tickets/{id:\d+}"
    conversation = r"/api/conversations/{id:\d+}"
    app.router.add_get("/api/me", me, name="api_me")
    app.router.add_get("/api/tickets", list_tickets, name="api_tickets")
    app.router.add_get(ticket, get_ticket, name="api_ticket")
    app.router.add_post(ticket + "/take", take, name="api_take")
    app.router.add_post(ticket + "/resolve", resolve, name="api_resolve")
    app.router.add_get(conversation, get_conversation, name="api_conversation")
    app.router.add_post(conversation + "/reply", reply, name="api_reply")
    app.router.add_post(conversation + "/notes", add_note, name="api_notes")
    app.router.add_post(conversation + "/handback", hand_back, name="api_handback")
    app.router.add_post(conversation + "/typing", typing, name="api_typing")
