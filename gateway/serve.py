"""``guichet serve``: migrate, make sure an index exists, then run the app."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import func, select

from gateway import gc_tuning
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.migrate import upgrade
from gateway.db.tables import User
from gateway.event_loop import new_event_loop


def ensure_index(settings: Settings) -> None:
    from gateway.kb.commands import build_default_index
    from kb_index.versions import current_version

    if current_version(settings.index_path) is None:
        print(f"No knowledge-base index yet: indexing {settings.kb.source_dir} …", flush=True)
        build_default_index(settings)


async def _user_count(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            return int((await session.execute(select(func.count(User.id)))).scalar_one())
    finally:
        await engine.dispose()


def banner(settings: Settings, users: int) -> str:
    base = settings.base_url
    lines = [
        "",
        "Guichet is starting.",
        f"  Chat widget demo : {base}/",
        f"  Operator console : {base}/console",
        f"  Health           : {base}/healthz",
    ]
    if users == 0:
        lines += [
            "",
            "No operator account yet. Create one in another terminal:",
            "  .venv/bin/guichet user add alice --role operator",
            "  (or --role admin; add --password-stdin to pipe the password)",
        ]
    return "\n".join(lines) + "\n"


def serve(settings: Settings, *, host: str | None, port: int | None, index_if_missing: bool) -> int:
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    upgrade(settings.database_url)
    if index_if_missing:
        ensure_index(settings)
    print(banner(settings, asyncio.run(_user_count(settings))), flush=True)

    from gateway.app import create_app

    gc_tuning.apply(settings.server.gc_threshold)
    web.run_app(
        create_app(settings),
        loop=new_event_loop(settings.server.event_loop),
        host=settings.server.host,
        port=settings.server.port,
        shutdown_timeout=10,
        print=None,
    )
    return 0
