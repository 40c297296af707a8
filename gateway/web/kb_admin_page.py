"""The knowledge-base admin page, ``/admin/kb`` (admin role only).

Lists the articles and broken sources, edits or creates an article, uploads a
source file, re-indexes with a live progress bar (the page polls
``/api/admin/kb/status``; the service also publishes ``kb.progress`` on the bus)
and rolls back to a kept index version.  Anonymous visitors are sent to the login
form by :mod:`gateway.web.security` (``/admin`` is protected like ``/console``);
operators get 403.  The JSON API is :mod:`gateway.web.kb_admin_api`.

:func:`setup_admin` builds the :class:`gateway.kb.admin.KBAdmin` service with the
live retriever's embedder (one model in memory), keeps it under ``keys.KB_ADMIN``
and closes it (cancelling a running build) on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway.kb.admin import KBAdmin
from gateway.web import kb_admin_api
from gateway.web.helpers import render
from gateway.web.keys import BUS, KB_ADMIN, SETTINGS
from gateway.web.security import CSRF, USER, redirect

__all__ = ["PAGE", "setup_admin"]

PAGE = "/admin/kb"


def is_admin(request: web.Request) -> bool:
    return USER in request and request[USER].role == "admin"


async def kb_page(request: web.Request) -> web.StreamResponse:
    context: dict[str, Any] = {"user": request[USER], "csrf": request[CSRF]}
    if not is_admin(request):
        return render(request, "admin_forbidden.html", context, status=403)
    admin = request.app[KB_ADMIN]
    loop = asyncio.get_running_loop()
    catalog = await loop.run_in_executor(None, admin.catalog)
    versions = await loop.run_in_executor(None, admin.versions)
    context.update(
        articles=[a.to_dict() for a in catalog.articles],
        errors=[{"path": path, "reason": reason} for path, reason in catalog.errors],
        versions=[kb_admin_api.version_dict(v, admin) for v in versions],
        status=admin.status().to_dict(),
        source_dir=str(admin.source_dir),
    )
    return render(request, "admin_kb.html", context)


async def admin_home(request: web.Request) -> web.StreamResponse:
    return redirect(PAGE)


def _make_service(app: web.Application, retriever: object | None) -> KBAdmin:
    settings = app[SETTINGS]
    embedder = getattr(retriever, "embedder", None)
    if embedder is None:  # a stand-in retriever (tests): an embedder of the configured kind
        from kb_index.embedder import make_embedder

        embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
    return KBAdmin(settings.kb.source_dir, settings.index_path, embedder, bus=app[BUS], retriever=retriever)


def setup_admin(
    app: web.Application, retriever: object | None = None, admin: KBAdmin | None = None
) -> KBAdmin:
    """Create the service (unless given), add the page and API routes and the shutdown hook."""
    service = admin if admin is not None else _make_service(app, retriever)
    app[KB_ADMIN] = service
    app.router.add_get("/admin", admin_home, name="admin")
    app.router.add_get(PAGE, kb_page, name="admin_kb")
    kb_admin_api.setup(app)

    async def close_service(app: web.Application) -> AsyncIterator[None]:
        yield
        await service.aclose()

    app.cleanup_ctx.append(close_service)
    return service
