"""A sliding-window rate limit, one per connection, on the injectable clock."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from gateway.clock import Clock


class SlidingWindowLimit:
    """At most ``limit`` events in any ``window``."""

    def __init__(self, clock: Clock, limit: int, window: timedelta) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._clock = clock
        self._limit = limit
        self._window = window
        self._times: deque[datetime] = deque()

    def allow(self) -> bool:
        """Count one event now; False (and not counted) if over the limit."""
        now = self._clock.now()
        while self._times and now - self._times[0] >= self._window:
            self._times.popleft()
        if len(self._times) >= self._limit:
            return False
        self._times.append(now)
        return True
