"""SLA clocks, computed from a ticket's recorded history (pure functions).

Three targets, each measured in business time of the policy's calendar with the
recorded pauses taken out:

- **first response**: from the ticket's creation to the first *human* reply (bot
  replies, notes and field updates never stop it; it is never overwritten later);
- **next response**: from the first customer message after a human reply to the next
  human reply (runs only once there was a first response);
- **resolution**: from creation to resolution; the time a ticket spent resolved before a
  reopen is a pause, so the clock goes on where it stopped.

Every deadline is recomputed from the start of its cycle, the policy's target for the
ticket's *current* priority, and the pauses: nothing is carried forward, so nothing
drifts (a priority change moves the deadline as if the new priority had held from the
start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.tickets.calendar import BusinessCalendar, Pause
from gateway.tickets.policies import TARGETS, SlaPolicy

RUNNING, PAUSED, MET, WARNING, BREACHED = "running", "paused", "met", "warning", "breached"


@dataclass(frozen=True, slots=True)
class SlaHistory:
    """What the clocks are computed from (all UTC)."""

    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None  # set while the ticket is resolved or closed
    awaiting_since: datetime | None = None  # customer message waiting for a human reply
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True, slots=True)
class ClockState:
    target: str
    cycle_at: datetime  # when this clock started
    minutes: int  # the target, in business minutes
    due_at: datetime | None  # None while paused (unknown until the clock runs again)
    warn_at: datetime | None
    met_at: datetime | None
    elapsed: timedelta  # business time run so far (up to met_at if met)
    state: str  # running | paused | warning | met | breached

    @property
    def remaining(self) -> timedelta:
        """Business time left; negative once overdue."""
        return timedelta(minutes=self.minutes) - self.elapsed

    @property
    def breached(self) -> bool:
        return self.elapsed > timedelta(minutes=self.minutes) if self.met_at else self.state == BREACHED

    @property
    def open(self) -> bool:
        """Still counting (not met)."""
        return self.met_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "state": self.state,
            "minutes": self.minutes,
            "started_at": self.cycle_at.isoformat(),
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "warn_at": self.warn_at.isoformat() if self.warn_at else None,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "remaining_seconds": int(self.remaining.total_seconds()),
            "breached": self.breached,
        }


@dataclass(frozen=True, slots=True)
class SlaStatus:
    policy: str
    clocks: tuple[ClockState, ...]

    def clock(self, target: str) -> ClockState | None:
        return next((c for c in self.clocks if c.target == target), None)

    @property
    def due(self) -> datetime | None:
        """The earliest deadline still running (for sorting the queue)."""
        dues = [c.due_at for c in self.clocks if c.open and c.due_at is not None]
        return min(dues) if dues else None

    @property
    def paused(self) -> bool:
        return any(c.open and c.state == PAUSED for c in self.clocks)

    def to_dict(self) -> dict[str, Any]:
        due = self.due
        return {
            "policy": self.policy,
            "due_at": due.isoformat() if due else None,
            "paused": self.paused,
            "clocks": {c.target: c.to_dict() for c in self.clocks},
        }


def clock_state(
    calendar: BusinessCalendar,
    target: str,
    minutes: int,
    cycle_at: datetime,
    met_at: datetime | None,
    pauses: Sequence[Pause],
    share: float,
    now: datetime,
) -> ClockState:
    amount = timedelta(minutes=minutes)
    # Pauses after the clock stopped do not concern it.
    relevant = [p for p in pauses if met_at is None or p[0] < met_at]
    if met_at is not None:
        relevant = [(s, e if e is not None and e <= met_at else met_at) for s, e in relevant]
    due = calendar.add(cycle_at, amount, relevant)
    warn = calendar.add(cycle_at, amount * share, relevant)
    until = met_at if met_at is not None else now
    elapsed = calendar.elapsed(cycle_at, until, relevant)
    if met_at is not None:
        state = MET if elapsed <= amount else BREACHED
    elif elapsed >= amount:
        state = BREACHED
    elif due is None:
        state = PAUSED
    elif elapsed >= amount * share:
        state = WARNING
    else:
        state = RUNNING
    return ClockState(target, cycle_at, minutes, due, warn, met_at, elapsed, state)


def compute(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    priority: str,
    history: SlaHistory,
    now: datetime,
    share: float,
) -> SlaStatus:
    """The state of every clock the policy sets for this priority, at ``now``."""
    clocks = []
    for target in TARGETS:
        minutes = policy.minutes(target, priority)
        if minutes is None:
            continue
        if target == "first_response":
            cycle, met = history.created_at, history.first_response_at
        elif target == "resolution":
            cycle, met = history.created_at, history.resolved_at
        else:
            if history.first_response_at is None or history.awaiting_since is None:
                continue
            if history.resolved_at is not None:
                continue  # a resolved ticket waits for nobody
            cycle, met = history.awaiting_since, None
        clocks.append(clock_state(calendar, target, minutes, cycle, met, history.pauses, share, now))
    return SlaStatus(policy.name, tuple(clocks))
