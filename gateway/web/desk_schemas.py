"""The pieces of the ticket desk's API descriptions (:func:`gateway.web.route_docs.describe`)
that its modules share: the OpenAPI tag, the common JSON schemas, an object schema."""

from __future__ import annotations

from typing import Any

TAGS = ("desk",)
OBJ: dict[str, Any] = {"type": "object"}
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
REASON: dict[str, Any] = {"type": "string", "maxLength": 500}


def obj(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    """An object schema with these properties (``required``: those it must have)."""
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema
