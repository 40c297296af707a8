"""JSON API of the knowledge-base admin page, under ``/api/admin/kb`` (admin role).

Session and CSRF (``X-CSRF-Token`` on writes) are enforced by
:mod:`gateway.web.security`; an operator gets 403 ``{"error": "forbidden"}``.

=======  =====================================  ==========================================
GET      /api/admin/kb/articles                 ``{articles: [...], errors: [{path, reason}]}``
POST     /api/admin/kb/articles                 create ``{id, title, lang, tags, body, questions}``
GET      /api/admin/kb/articles/{id}            one article with its body and questions
PUT      /api/admin/kb/articles/{id}            save (edit, or create under that id)
DELETE   /api/admin/kb/articles/{id}            delete a one-article file
POST     /api/admin/kb/upload                   multipart, field ``file``
POST     /api/admin/kb/reindex                  202 ``{started, status}``; joins a running build
GET      /api/admin/kb/status                   ``{running, stage, done, total, version, error, report}``
GET      /api/admin/kb/versions                 ``{versions: [...]}`` newest first
POST     /api/admin/kb/versions/{v}/activate    roll back (or forward) to a kept version
=======  =====================================  ==========================================
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from aiohttp import BodyPartReader, web

from gateway.kb.admin import KBAdmin
from gateway.web.helpers import BadRequest, admin_api, json_body
from gateway.web.keys import KB_ADMIN
from gateway.web.security import json_error, json_response
from kb_index.versions import VersionInfo

PREFIX = "/api/admin/kb"


admin_only = admin_api("The knowledge base is managed by admins.")


def version_dict(info: VersionInfo, admin: KBAdmin) -> dict[str, Any]:
    return {"version": info.version, "created_at": info.created_at, "articles": info.articles,
            "chunks": info.chunks, "embedder": info.embedder, "current": info.current,
            "errors": info.errors, "usable": info.embedder == admin.embedder.name}


async def _blocking(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """File work (parsing the KB) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise BadRequest("invalid_field", f"{key} must be text.")
    return value


def _texts(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = value.split("\n") if key == "questions" else value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("invalid_field", f"{key} must be a list of text.")
    return value


async def _save(request: web.Request, article_id: str, *, create: bool) -> web.Response:
    data = await json_body(request)
    admin = request.app[KB_ADMIN]
    saved = await _blocking(admin.save_article, article_id, _text(data, "title"), _text(data, "lang"),
                            _texts(data, "tags"), _text(data, "body"), questions=_texts(data, "questions"),
                            create=create)
    article = await _blocking(admin.get_article, saved.id)
    return json_response({"saved": {"id": saved.id, "path": saved.path, "created": saved.created},
                          "article": article.to_dict()}, status=201 if saved.created else 200)


@admin_only
async def list_articles(request: web.Request) -> web.StreamResponse:
    catalog = await _blocking(request.app[KB_ADMIN].catalog)
    return json_response({"articles": [a.to_dict() for a in catalog.articles],
                          "errors": [{"path": p, "reason": r} for p, r in catalog.errors]})


@admin_only
async def create_article(request: web.Request) -> web.StreamResponse:
    data = await json_body(request)
    return await _save(request, _text(data, "id"), create=True)


@admin_only
async def get_article(request: web.Request) -> web.StreamResponse:
    article = await _blocking(request.app[KB_ADMIN].get_article, request.match_info["id"])
    return json_response(article.to_dict())


@admin_only
async def put_article(request: web.Request) -> web.StreamResponse:
    return await _save(request, request.match_info["id"], create=False)


@admin_only
async def delete_article(request: web.Request) -> web.StreamResponse:
    path = await _blocking(request.app[KB_ADMIN].delete_article, request.match_info["id"])
    return json_response({"deleted": request.match_info["id"], "path": path})


@admin_only
async def upload(request: web.Request) -> web.StreamResponse:
    admin = request.app[KB_ADMIN]
    if not request.content_type.startswith("multipart/"):
        raise BadRequest("invalid_upload", "Send the file as multipart/form-data, field 'file'.")
    reader = await request.multipart()
    async for part in reader:
        if getattr(part, "name", None) != "file" or not isinstance(part, BodyPartReader):
            continue
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            if len(data) > admin.max_upload_bytes:
                limit = admin.max_upload_bytes
                return json_error(413, "too_large", f"The file is larger than {limit} bytes.")
        result = await _blocking(admin.upload, part.filename or "", bytes(data))
        return json_response({"filename": result.filename, "articles": list(result.articles),
                              "replaced": result.replaced}, status=201)
    raise BadRequest("invalid_upload", "No file in the upload (field 'file').")


@admin_only
async def reindex(request: web.Request) -> web.StreamResponse:
    admin = request.app[KB_ADMIN]
    started = admin.start_reindex()
    return json_response({"started": started, "status": admin.status().to_dict()}, status=202)


@admin_only
async def status(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[KB_ADMIN].status().to_dict())


@admin_only
async def versions(request: web.Request) -> web.StreamResponse:
    admin = request.app[KB_ADMIN]
    infos = await _blocking(admin.versions)
    return json_response({"versions": [version_dict(v, admin) for v in infos]})


@admin_only
async def activate(request: web.Request) -> web.StreamResponse:
    admin = request.app[KB_ADMIN]
    info = await admin.rollback(request.match_info["version"])
    return json_response(version_dict(info, admin))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/articles", list_articles)
    r.add_post(f"{PREFIX}/articles", create_article)
    r.add_get(f"{PREFIX}/articles/{{id}}", get_article)
    r.add_put(f"{PREFIX}/articles/{{id}}", put_article)
    r.add_delete(f"{PREFIX}/articles/{{id}}", delete_article)
    r.add_post(f"{PREFIX}/upload", upload)
    r.add_post(f"{PREFIX}/reindex", reindex)
    r.add_get(f"{PREFIX}/status", status)
    r.add_get(f"{PREFIX}/versions", versions)
    r.add_post(f"{PREFIX}/versions/{{version}}/activate", activate)
