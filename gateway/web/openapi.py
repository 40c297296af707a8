"""``GET /api/openapi.json``: the OpenAPI 3.1 document of the REST API, generated
from the application's own routes, so it lists every ``/api`` route there is.

What a route says about itself comes from its :class:`gateway.web.access.RouteDoc`
(summary, query parameters, body and response schemas, the permission it needs);
path parameters come from the route's pattern (``{id:\\d+}`` is an integer).  A
route without a description is still listed, with its handler's docstring.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gateway.auth.roles import AUTHENTICATED, DESCRIPTIONS
from gateway.web.access import RouteDoc, describe, doc_for, required_permission, roles_with
from gateway.web.security import SESSION_COOKIE, json_response

PATH = "/api/openapi.json"
VERSION = "1"
MAX_ID = 2**31 - 1
INTEGER_PATTERNS = (r"\d+", r"[0-9]+")
_WORDS = re.compile(r"[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)*")
ERRORS = {
    "400": "the request is malformed (the message says why)",
    "401": "no valid session or API token",
    "403": "the caller's role or token scopes do not allow this, or the CSRF token is missing",
    "404": "no such thing",
    "409": "the action does not fit the current state",
}


def _group_patterns(pattern: str) -> dict[str, str]:
    """``{name: regex}`` of the named groups of a compiled route pattern."""
    found: dict[str, str] = {}
    for match in re.finditer(r"\(\?P<(\w+)>", pattern):
        depth, i = 1, match.end()
        while i < len(pattern) and depth:
            if pattern[i] == "\\":
                i += 2
                continue
            depth += {"(": 1, ")": -1}.get(pattern[i], 0)
            i += 1
        found[match.group(1)] = pattern[match.end():i - 1]
    return found


def param_schema(regex: str) -> dict[str, Any]:
    if regex in INTEGER_PATTERNS:
        return {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    if _WORDS.fullmatch(regex):
        return {"type": "string", "enum": regex.split("|")}
    return {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^/]+$"}


def path_parameters(resource: web.AbstractResource) -> list[dict[str, Any]]:
    info = resource.get_info()
    pattern = info.get("pattern")
    if pattern is None:
        return []
    groups = _group_patterns(pattern.pattern)
    return [{"name": name, "in": "path", "required": True, "schema": param_schema(regex)}
            for name, regex in groups.items()]


def _summary(handler: Any) -> tuple[str, str]:
    text = (getattr(handler, "__doc__", None) or "").strip()
    first, _, rest = text.partition("\n")
    return first.strip().rstrip("."), rest.strip()


def _operation_id(method: str, path: str) -> str:
    return method.lower() + "_" + re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_")


def operation(method: str, path: str, resource: web.AbstractResource, handler: Any) -> dict[str, Any]:
    doc = doc_for(method, path, handler) or RouteDoc(required_permission(method, path, handler))
    summary, more = _summary(handler)
    permission = doc.permission
    roles = ", ".join(roles_with(permission)) or "none"
    needs = ("Any logged-in account or valid token." if permission == AUTHENTICATED else
             f"Needs `{permission}` ({DESCRIPTIONS.get(permission, permission)}): roles {roles}; "
             f"a token needs that scope.")
    segments = [s for s in path.split("/") if s and s != "api" and not s.startswith("{")]
    op: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": doc.summary or summary or f"{method} {path}",
        "description": "\n\n".join(p for p in (doc.description or more, needs) if p),
        "tags": list(doc.tags) or segments[:1] or ["api"],
        "x-permission": permission,
    }
    parameters = path_parameters(resource)
    parameters += [{"name": p.name, "in": "query", "required": p.required, "schema": dict(p.schema),
                    **({"description": p.description} if p.description else {})} for p in doc.query]
    if parameters:
        op["parameters"] = parameters
    if doc.body is not None:
        content = {doc.body_type: {"schema": dict(doc.body)}}
        op["requestBody"] = {"required": doc.body_required, "content": content}
    responses: dict[str, Any] = {}
    for code, (description, schema) in (doc.responses or {200: ("OK", None)}).items():
        responses[str(code)] = {"description": description}
        if schema is not None:
            responses[str(code)]["content"] = {"application/json": {"schema": dict(schema)}}
    for status in ERRORS:
        responses.setdefault(status, {"$ref": f"#/components/responses/E{status}"})
    op["responses"] = responses
    return op


def build_document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "OPTIONS", "*"):
            continue
        path = resource.canonical
        if not (path == "/api" or path.startswith("/api/")):
            continue
        op = operation(route.method, path, resource, route.handler)
        paths.setdefault(path, {})[route.method.lower()] = op
    error = {"type": "object", "required": ["error"],
             "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Guichet REST API",
            "version": VERSION,
            "description": "Everything the console does. Authenticate with `Authorization: Bearer <token>` "
                           "(a scoped API token an admin creates) or the console's session cookie (then "
                           "writes need the `X-CSRF-Token` header). Errors are "
                           "`{\"error\": code, \"message\": text}`.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an API token (`gch_…`) created under /admin/accounts"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                               "description": "the console's session; writes also need X-CSRF-Token"},
            },
            "schemas": {"Error": error},
            "responses": {f"E{status}": {"description": text, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                for status, text in ERRORS.items()},
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    }


@describe(AUTHENTICATED, "This document: the OpenAPI description of the REST API", tags=("api",),
          responses={200: ("the OpenAPI document", {"type": "object", "required": ["openapi", "paths"]})})
async def openapi_document(request: web.Request) -> web.StreamResponse:
    return json_response(build_document(request.app))


def setup_openapi(app: web.Application) -> None:
    app.router.add_get(PATH, openapi_document, name="api_openapi")
