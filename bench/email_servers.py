"""The server processes of the SMTP bench (:mod:`bench.email_smtp`): the bare
aiosmtpd sink, the durable sink (append + fsync before each 250) and Guichet
itself with its SMTP listener.  Each prints ``READY <port>`` and runs until
SIGTERM; ``python -m bench.email_smtp serve-sink|serve-app`` starts them."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from bench.perf.options import DEFAULT_KB
from bench.perf.serving import READY

SUPPORT = "support@guichet.test"
UNLIMITED = 1_000_000_000  # the per-client rate limit in the bench (still checked at every MAIL)


class SinkHandler:
    """The raw baseline: every DATA gets 250, nothing is stored."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


class DurableSinkHandler:
    """The durable baseline: each message appended to one file and fsynced (in a
    thread, off the loop) before its 250 — nothing else."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _append(self, data: bytes) -> None:
        os.write(self.fd, data)
        os.fsync(self.fd)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        head = f"From {envelope.mail_from or 'MAILER-DAEMON'} {len(content)}\n".encode()
        await asyncio.to_thread(self._append, head + bytes(content) + b"\n")
        return "250 OK"


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_sink(durable: Path | None = None) -> None:
    from aiosmtpd.smtp import SMTP

    handler: SinkHandler | DurableSinkHandler
    handler = SinkHandler() if durable is None else DurableSinkHandler(durable)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, decode_data=False, enable_SMTPUTF8=True, hostname="sink.test"),
        host="127.0.0.1", port=0,
    )
    print(f"{READY} {server.sockets[0].getsockname()[1]}", flush=True)
    try:
        await _until_stopped()
    finally:
        server.close()
        await server.wait_closed()


async def serve_app(data_dir: Path, relay_port: int, workers: int | None = None) -> None:
    from aiohttp import web

    from bench.perf.app_server import StubRetriever, bench_settings
    from gateway.app import create_app
    from gateway.web.keys import CHANNELS

    settings = bench_settings(data_dir, "stub", DEFAULT_KB)
    email = settings.email
    email.enabled = True
    email.addresses = [SUPPORT]
    email.smtp_host, email.smtp_port = "127.0.0.1", 0
    email.relay_host, email.relay_port = "127.0.0.1", relay_port
    email.rate_limit_messages = UNLIMITED
    if workers is not None:  # profiling the accept alone: 0 runs no job (not even the fast path)
        settings.jobs.workers = workers
    app = create_app(settings, retriever=StubRetriever())
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=5)
    await runner.setup()  # runs the cleanup_ctx services: the channel starts its SMTP listener
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        listener = getattr(app[CHANNELS]["email"], "listener", None)
        if listener is None:
            raise RuntimeError("the email channel started no SMTP listener")
        print(f"{READY} {listener.port}", flush=True)
        await _until_stopped()
    finally:
        await runner.cleanup()
