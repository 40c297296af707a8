"""A background service that runs one step at start and then every ``interval``
seconds, as a ``cleanup_ctx`` entry: a failed step is logged and tried again at the
next tick, the task is cancelled on shutdown, and an interval of 0 runs nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


def periodic(
    label: str, interval: Callable[[], float], step: Callable[[], Awaitable[None]], *, task_name: str
) -> Callable[[Any], AsyncIterator[None]]:
    """``interval`` is read when the app starts (settings may change before)."""

    async def run_forever(seconds: float) -> None:
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again in %g s", label, seconds)
            await asyncio.sleep(seconds)

    async def ctx(app: Any) -> AsyncIterator[None]:
        seconds = interval()
        task = asyncio.create_task(run_forever(seconds), name=task_name) if seconds > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return ctx
