"""What API handlers read from a request besides its JSON body (:func:`helpers.json_body`):
the id in the path, and typed fields of the body, each wrong type a clear 400
(:class:`~gateway.web.helpers.BadRequest` ``invalid_<field>``).

A field that is missing (or JSON ``null``) is ``default``; one of the wrong type is
refused, never coerced: ``"3"`` is not an integer and ``true`` is neither an integer
nor a string.  Integers stay within the database's (32-bit) integer columns: a larger
one in the body is a 400, in the path a 404 (nothing has that id), never a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeGuard

from aiohttp import web

from gateway.errors import NotFoundError
from gateway.web.helpers import BadRequest

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # an INTEGER column on PostgreSQL


def path_id(request: web.Request, key: str = "id") -> int:
    """The number the route matched as ``{key}`` (routes that use it only match digits)."""
    value = int(request.match_info[key])
    if value > INT_MAX:
        raise NotFoundError(f"nothing has the {key} {value}")
    return value


def fits_int(value: object) -> TypeGuard[int]:
    """An integer (not a boolean) that an INTEGER column holds."""
    return isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX


def text_field(body: dict[str, Any], key: str, default: str | None = None) -> str | None:
    """``body[key]`` if it is a string, ``default`` if missing."""
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"invalid_{key}", f'"{key}" must be a string.')
    return value


def text_value(body: dict[str, Any], key: str, default: str = "") -> str:
    """``body[key]`` if it is a non-empty string, else ``default`` (a wrong type: 400)."""
    return text_field(body, key) or default


def int_field(body: dict[str, Any], key: str) -> int | None:
    """``body[key]`` if it is an integer (not a boolean), None if missing."""
    value = body.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadRequest(f"invalid_{key}", f'"{key}" must be an integer.')
    if value is not None and not fits_int(value):
        raise BadRequest(f"invalid_{key}", f'"{key}" is out of range.')
    return value


def flag_field(body: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    """``body[key]`` if it is true or false, ``default`` if missing."""
    value = body.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"invalid_{key}", f'"{key}" must be true or false.')
    return value


def time_field(body: dict[str, Any], key: str) -> datetime | None:
    """``body[key]`` read as an ISO time, None if missing or empty."""
    raw = text_field(body, key)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise _bad_time(key) from exc


def required_time(body: dict[str, Any], key: str) -> datetime:
    """:func:`time_field` that must be there."""
    value = time_field(body, key)
    if value is None:
        raise _bad_time(key)
    return value


def _bad_time(key: str) -> BadRequest:
    return BadRequest(f"invalid_{key}", f'"{key}" is an ISO time with its offset.')
