"""The operator console: login, logout and the operator's single-page app.

:func:`setup_console` wires everything the console needs into the application:
the security middleware and headers, these pages, the JSON API
(:mod:`gateway.web.console_api`, agent assist :mod:`gateway.web.assist_api`, drafts
and KB gaps :mod:`gateway.web.drafts_admin`), the live WebSocket
(:mod:`gateway.web.console_ws`) and the static files.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from gateway.auth import authenticate, create_session, delete_session
from gateway.errors import NotFoundError
from gateway.models import TicketStatus
from gateway.views import ConversationView, MessageView, TicketView
from gateway.web import assist_api, console_api, console_ws, drafts_admin
from gateway.web.console_api import message_dict
from gateway.web.helpers import render
from gateway.web.keys import CLOCK, OPERATORS, SESSIONS, SETTINGS
from gateway.web.security import (
    CSRF,
    LOGIN_PATH,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    STATIC_PREFIX,
    USER,
    LoginThrottle,
    check_prelogin_token,
    clear_session_cookie,
    prelogin_token,
    redirect,
    safe_next,
    set_prelogin_cookie,
    set_session_cookie,
    setup_security,
)
from gateway.web.words import CHANNELS, console_words, event_text

STATIC_DIR = Path(__file__).parent / "static"
LOGIN_THROTTLE = web.AppKey("console_login_throttle", LoginThrottle)
BAD_LOGIN = "Wrong user name or password."


def make_jinja_env() -> jinja2.Environment:
    """The template environment the app keeps under ``keys.JINJA``."""
    return jinja2.Environment(loader=jinja2.PackageLoader("gateway.web", "templates"), autoescape=True)


# ------------------------------------------------------------ presentation


def age_text(since: datetime, now: datetime) -> str:
    """"3 min", "2 h", "4 d": how long a ticket has waited."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def ticket_row(ticket: TicketView, now: datetime) -> dict[str, Any]:
    return {
        **ticket.to_dict(),
        "age": age_text(ticket.created_at, now),
        "channel_label": CHANNELS.get(ticket.channel, ticket.channel),
    }


def author_label(message: MessageView, conversation: ConversationView) -> str:
    if message.author.value == "customer":
        return message.author_name or conversation.customer_name or "Customer"
    if message.author.value == "operator":
        return message.author_name or "Operator"
    return message.author_name or message.author.value.capitalize()


def message_item(message: MessageView, conversation: ConversationView) -> dict[str, Any]:
    data = message_dict(message)
    data["label"] = author_label(message, conversation)
    data["time"] = message.created_at.strftime("%Y-%m-%d %H:%M")
    if message.kind.value == "event":
        data["text"] = event_text(message.text)  # "(explicit_request)" in words
    return data


def _user_context(request: web.Request) -> dict[str, Any]:
    return {"user": request[USER], "csrf": request[CSRF], "words": console_words()}


# ------------------------------------------------------------------ pages


async def login_page(request: web.Request) -> web.StreamResponse:
    target = safe_next(request.query.get("next"))
    if USER in request:
        return redirect(target)
    return _login_form(request, target, error="", status=200)


def _login_form(
    request: web.Request, target: str, *, error: str, status: int, username: str = ""
) -> web.Response:
    token, cookie = prelogin_token(request)
    context = {"next": target, "error": error, "csrf": token, "username": username[:64]}
    response = render(request, "login.html", context, status=status)
    set_prelogin_cookie(response, request, cookie)
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    target = safe_next(str(form.get("next", "")))
    name = str(form.get("username", ""))
    password = str(form.get("password", ""))
    if not check_prelogin_token(request, str(form.get("csrf_token", ""))):
        error = "The form expired; please try again."
        return _login_form(request, target, error=error, status=403, username=name)
    throttle = request.app[LOGIN_THROTTLE]
    remote = request.remote or ""
    now = request.app[CLOCK].now()
    wait = throttle.retry_after(name, remote, now)
    if wait:
        minutes = max(1, round(wait / 60))
        error = f"Too many failed attempts; try again in {minutes} min."
        return _login_form(request, target, error=error, status=429, username=name)
    user = await authenticate(request.app[SESSIONS], name, password)
    if user is None:
        throttle.failed(name, remote, now)
        return _login_form(request, target, error=BAD_LOGIN, status=401, username=name)
    throttle.succeeded(name, remote)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await delete_session(request.app[SESSIONS], old)
    hours = request.app[SETTINGS].console.session_hours
    cookie, _csrf = await create_session(request.app[SESSIONS], user.id, request.app[CLOCK], hours)
    response = redirect(target)
    set_session_cookie(response, request, cookie)
    response.del_cookie(PRELOGIN_COOKIE, path=LOGIN_PATH)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await delete_session(request.app[SESSIONS], request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(LOGIN_PATH)
    clear_session_cookie(response)
    return response


async def _queue(request: web.Request) -> list[dict[str, Any]]:
    statuses: Sequence[TicketStatus] = (TicketStatus.NEW, TicketStatus.OPEN)
    tickets = await request.app[OPERATORS].list_tickets(statuses)
    now = request.app[CLOCK].now()
    return [ticket_row(t, now) for t in sorted(tickets, key=lambda t: t.created_at)]


async def console_page(request: web.Request) -> web.StreamResponse:
    context = _user_context(request)
    context.update(tickets=await _queue(request), ticket=None, conversation=None, messages=[])
    return render(request, "console.html", context)


async def ticket_page(request: web.Request) -> web.StreamResponse:
    """The console with one ticket open: a link operators can share."""
    operators = request.app[OPERATORS]
    try:
        ticket = await operators.get_ticket(int(request.match_info["id"]))
        conversation = await operators.get_conversation(ticket.conversation_id)
        messages = await operators.messages(conversation.id, include_internal=True)
    except NotFoundError:
        return render(request, "not_found.html", _user_context(request), status=404)
    context = _user_context(request)
    context.update(
        tickets=await _queue(request),
        ticket=ticket.to_dict(),
        conversation=conversation.to_dict(),
        messages=[message_item(m, conversation) for m in messages],
    )
    return render(request, "console.html", context)


# ------------------------------------------------------------------ setup


def setup_console(app: web.Application) -> None:
    """Add the console's middleware, routes, static files and shutdown hook."""
    setup_security(app)
    app[LOGIN_THROTTLE] = LoginThrottle()
    app.router.add_get(LOGIN_PATH, login_page, name="console_login")
    app.router.add_post(LOGIN_PATH, login_submit)
    app.router.add_post("/console/logout", logout, name="console_logout")
    app.router.add_get("/console", console_page, name="console")
    app.router.add_get(r"/console/tickets/{id:\d+}", ticket_page, name="console_ticket")
    console_ws.setup(app)
    console_api.setup(app)
    assist_api.setup(app)  # suggestions from the knowledge base
    drafts_admin.setup(app)  # drafts of articles from resolved tickets, KB gaps
    app.router.add_static(STATIC_PREFIX.rstrip("/"), STATIC_DIR, name="console_static")
