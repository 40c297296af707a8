"""Background mail processing waits for a pause in the SMTP sessions.

A sending MTA holds its connection open until our 250, and the 250 waits for a
commit; the processing of mails already accepted (parse, thread, route, reply)
is work nobody waits on at that instant.  So, on the fast path, a ``mail_ingest``
job waits in memory (:meth:`gateway.flow.jobs.JobRunner.pace_fast`) until no
client sent MAIL or DATA for :data:`QUIET_SECONDS`, and never longer than
:data:`MAX_WAIT_SECONDS` after its accept: a steady stream of mail delays the
replies by that much at most, never starves them.  At most
:data:`CONCURRENCY` mails are processed at a time on the fast path.

The job is durable all along (its row is claimed, its lease renewed while it
waits); a crash leaves it to be reclaimed, a stop puts it back in the queue.

The raw bytes a job is handed (:class:`gateway.mail.processing_sql.StoredMail`)
are kept in memory up to :data:`HELD_BYTES_BUDGET` in all; past it a job is
handed nothing and reads its mail back from the database when it runs.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Sequence

from gateway.flow.job_queue import JobView
from gateway.mail.processing_sql import StoredMail

QUIET_SECONDS = 0.05
MAX_WAIT_SECONDS = 5.0
# Measured (10 clients, 300 mails, bench.email_smtp's app): 2 at a time, 15.7-17 ms of
# CPU a mail, all processed 6.5-7 s after the last 250; 6 at a time, 11.4-12.8 ms and
# 3.7-5.3 s (more mails share each group commit); 12, no better than 6.
CONCURRENCY = 6
HELD_BYTES_BUDGET = 64 * 1024 * 1024


class SmtpPause:
    """When the SMTP listener last saw a transaction, and the gate that waits for
    it to pause.  ``clock`` is monotonic seconds (``time.monotonic``)."""

    def __init__(
        self,
        quiet: float = QUIET_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
        budget: int = HELD_BYTES_BUDGET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self.budget = budget
        self.clock = clock
        self.seen = float("-inf")  # the last MAIL or DATA
        self.held_bytes = 0  # raw bytes handed to jobs that have not run yet

    def note(self) -> None:
        """An SMTP transaction is under way (the listener calls this at MAIL and DATA)."""
        self.seen = self.clock()

    def busy(self, window: float | None = None) -> bool:
        """Did a client send MAIL or DATA within the last ``window`` seconds?"""
        return self.clock() - self.seen < (self.quiet if window is None else window)

    def until_open(self, since: float) -> float:
        """Seconds until a job handed over at ``since`` may run (0: now)."""
        now = self.clock()
        return max(0.0, min(self.seen + self.quiet, since + self.max_wait) - now)

    async def gate(self, job: JobView, since: float) -> None:
        """The ``mail_ingest`` fast-path gate (see the module's docstring)."""
        # sleeps towards a deadline that each MAIL/DATA moves on (no event to wait
        # for), by steps of at most QUIET_SECONDS: only CONCURRENCY jobs wait here
        while (wait := self.until_open(since)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(wait, QUIET_SECONDS))

    def stored(self, raw: bytes, envelope_to: Sequence[str], envelope_from: str) -> StoredMail | None:
        """What to hand the accept's job: the mail itself while the budget allows,
        else ``None`` (the job reads it back)."""
        size = len(raw)
        if self.held_bytes + size > self.budget:
            return None
        stored = StoredMail(raw, tuple(envelope_to), envelope_from)
        self.held_bytes += size
        weakref.finalize(stored, self._release, size)  # the job ran, or was dropped
        return stored

    def _release(self, size: int) -> None:
        self.held_bytes -= size
