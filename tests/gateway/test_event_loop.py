"""``[server] event_loop``: which loop ``guichet serve`` and the bench run on."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from gateway import event_loop
from gateway.config import Settings

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_auto_is_uvloop_when_installed() -> None:
    assert Settings().server.event_loop == "auto"
    assert event_loop.resolve("auto") == ("uvloop" if HAS_UVLOOP else "asyncio")


def test_asyncio_can_be_asked_for() -> None:
    loop = event_loop.new_event_loop("asyncio")
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()


@pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is a dependency; absent only on platforms without it")
def test_uvloop_runs_the_server_coroutines() -> None:
    seen: list[str] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)
        seen.append(await asyncio.to_thread(lambda: "thread"))

    event_loop.run(main(), "uvloop")
    assert seen[0].startswith("uvloop") and seen[1] == "thread"


def test_an_unknown_choice_is_a_clear_error() -> None:
    with pytest.raises(event_loop.EventLoopError, match="must be one of auto, uvloop, asyncio"):
        event_loop.resolve("trio")
