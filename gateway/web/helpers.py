"""What every console handler shares: JSON errors for the core's errors and bad
requests (:func:`api`), reading a request's JSON body, rendering a page.

Handlers import these from here; this module imports no handler module.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.errors import (
    ConflictError,
    ForbiddenError,
    GuichetError,
    InvalidInputError,
    NotFoundError,
)
from gateway.web.keys import JINJA
from gateway.web.security import USER, json_error

MAX_TEXT_CHARS = 10_000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ERROR_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (InvalidInputError, 400, "invalid_input"),
    (ForbiddenError, 403, "forbidden"),
)


class BadRequest(Exception):
    """Raised by a handler (or a helper it calls) for a 400 ``{"error": code}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def api(handler: Handler) -> Handler:
    """Maps core errors and bad requests to JSON error responses: not found 404,
    conflict 409, invalid input 400, forbidden 403, :class:`BadRequest` 400."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as exc:
            return json_error(400, exc.code, str(exc))
        except GuichetError as exc:
            for kind, status, code in ERROR_STATUS:
                if isinstance(exc, kind):
                    return json_error(status, code, str(exc) or code.replace("_", " "))
            raise

    return wrapper


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or :class:`BadRequest` ``invalid_json``."""
    try:
        data = await request.json()
    except ValueError as exc:
        raise BadRequest("invalid_json", "The request body must be JSON.") from exc
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "The request body must be a JSON object.")
    return data


async def text_body(request: web.Request) -> str:
    """The body's ``text``, stripped: present, not blank, at most :data:`MAX_TEXT_CHARS`."""
    text = (await json_body(request)).get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("invalid_text", "Write some text first.")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest("text_too_long", f"The text is longer than {MAX_TEXT_CHARS} characters.")
    return text.strip()


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A page from the app's templates (``keys.JINJA``)."""
    html = request.app[JINJA].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def is_admin(request: web.Request) -> bool:
    return USER in request and request[USER].role == "admin"


def admin_api(refusal: str) -> Callable[[Handler], Handler]:
    """An :func:`api` handler that only admins reach; anyone else gets 403 with ``refusal``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if not is_admin(request):
                return json_error(403, "forbidden", refusal)
            return await handler(request)

        return api(wrapper)

    return decorate
