"""How often the server's garbage collector runs: ``[server] gc_threshold``.

CPython collects its youngest generation every 700 allocations of container
objects (its default), which a busy server reaches thousands of times a second;
each collection walks the young objects, although almost all of them are freed by
reference counting alone.  Measured on the web-chat path (50 visitors, stub
retriever, same machine and minute): 2.6-3.1 ms of server CPU a conversation with
the default, 2.3-2.5 ms at 20,000, and the ack's p99 about halved (bench/README.md).
Objects in reference cycles wait a little longer to be freed: with 20,000 that is
at most some thousands of small objects.
"""

from __future__ import annotations

import gc

DEFAULT = 20_000


def apply(threshold: int) -> None:
    """Collect the youngest generation every ``threshold`` allocations; 0 keeps
    Python's own setting.  The older generations keep their ratios."""
    if threshold < 0:
        raise ValueError(f"server.gc_threshold must be 0 (Python's default) or more, not {threshold}")
    if threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
