"""Shared by the bench's server processes: serve an aiohttp app on 127.0.0.1 on a
free port, print ``READY <port>`` for the parent, run until SIGTERM or SIGINT.

Both servers run on the event loop ``guichet serve`` runs on by default
(``server.event_loop = "auto"``: uvloop when installed) and with its
garbage-collector setting (``server.gc_threshold``), Guichet and its raw baseline
alike."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from gateway import gc_tuning
from gateway.config import ServerSettings

READY = "READY"


async def serve_until_stopped(app: web.Application, host: str = "127.0.0.1") -> None:
    gc_tuning.apply(ServerSettings().gc_threshold)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = int(runner.addresses[0][1])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"{READY} {port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
