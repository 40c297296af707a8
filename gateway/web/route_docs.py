"""How a route describes itself: :class:`RouteDoc` (permission, API description,
audit action) attached to a handler by :func:`describe`, and :func:`public`.
:mod:`gateway.web.access` reads them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

PUBLIC_ATTR = "guichet_public"
DOC_ATTR = "guichet_doc"

Schema = Mapping[str, Any]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A query parameter of an API route."""

    name: str
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class RouteDoc:
    """What a route needs and does.  ``audit``: the action name the audit log records
    after a successful call; ``subject``: the kind of thing ``{id}`` names there
    ("ticket", "conversation", ...)."""

    permission: str
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    query: tuple[Param, ...] = ()
    body: Schema | None = None
    body_type: str = "application/json"
    body_required: bool = True
    responses: Mapping[int, tuple[str, Schema | None]] = field(default_factory=dict)
    audit: str | None = None
    subject: str | None = None
    page_subject: str = ""  # pages: "The job queue" in "... is managed by admins"


def describe(permission: str, summary: str = "", **kwargs: Any) -> Callable[[F], F]:
    """Attach a :class:`RouteDoc` to a handler (works over or under ``@api``)."""

    def attach(handler: F) -> F:
        setattr(handler, DOC_ATTR, RouteDoc(permission, summary, **kwargs))
        return handler

    return attach


def public(handler: F) -> F:
    """Mark a handler as public: no session or token needed (it must check its
    caller itself, as a signed webhook does)."""
    setattr(handler, PUBLIC_ATTR, True)
    return handler


