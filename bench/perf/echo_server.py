"""The raw web baseline: a bare aiohttp WebSocket echo server (``/ws``), nothing else.

Run as ``python -m bench.perf.echo_server``; prints ``READY <port>``.
"""

from __future__ import annotations

from aiohttp import WSMsgType, web

from bench.perf.serving import serve_until_stopped
from gateway import event_loop


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await ws.send_str(msg.data)
    return ws


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/ws", echo)
    return app


if __name__ == "__main__":
    event_loop.run(serve_until_stopped(make_app()))
