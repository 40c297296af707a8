"""The event loop ``guichet serve`` runs on: uvloop (libuv) when it is installed,
else asyncio's own; ``[server] event_loop`` chooses.

Why: on the web-chat path about half of the server's time is the event loop's
own work (polling, socket writes, transports, timers), not Guichet's
(``bench/README.md``, "Web chat"); uvloop does that work in C.  The bench serves
with the same choice and prints it, for Guichet and its raw baseline alike.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any

CHOICES = ("auto", "uvloop", "asyncio")


class EventLoopError(ValueError):
    """An event loop was asked for that cannot be had."""


def resolve(choice: str) -> str:
    """The loop ``choice`` stands for here: ``uvloop`` or ``asyncio``."""
    if choice not in CHOICES:
        raise EventLoopError(f"server.event_loop must be one of {', '.join(CHOICES)}, not {choice!r}")
    available = importlib.util.find_spec("uvloop") is not None
    if choice == "uvloop" and not available:
        raise EventLoopError('server.event_loop = "uvloop" but uvloop is not installed (pip install uvloop)')
    if choice == "auto":
        return "uvloop" if available else "asyncio"
    return choice


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    if resolve(choice) == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, None], choice: str = "auto") -> None:
    """``asyncio.run`` on the chosen loop."""
    with asyncio.Runner(loop_factory=lambda: new_event_loop(choice)) as runner:
        runner.run(main)
