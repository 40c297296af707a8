"""The desk's structured configuration: business calendars, the priority matrix and the
SLA policies, read from the TOML file named by ``tickets.policy_file``.

::

    [matrix]                      # urgency -> impact -> priority
    high   = { high = "P1", medium = "P2", low = "P3" }
    medium = { high = "P2", medium = "P3", low = "P4" }
    low    = { high = "P3", medium = "P4", low = "P4" }

    [calendars.office]
    timezone = "Europe/Paris"
    monday = ["09:00-12:30", "13:30-18:00"]   # ... tuesday to sunday
    holidays_country = "FR"                   # optional, with holidays_subdiv
    closed_dates = ["2026-12-24"]

    [[sla]]                       # precedence: highest first, then file order
    name = "complaints"
    precedence = 10
    category = "complaint"        # conditions (all optional): queue, category, tier, channel
    calendar = "office"
    first_response = { P1 = 30, P2 = 60, P3 = 120, P4 = 240 }  # business minutes
    next_response  = { P1 = 60, P2 = 120, P3 = 240, P4 = 480 }
    resolution     = { P1 = 480, P2 = 960, P3 = 2400, P4 = 4800 }
    warn_share = 0.75             # optional: else tickets.warn_share
    on_breach = ["notify", "raise_priority", "escalate"]

A ticket gets the first policy (by precedence, then order in the file) whose conditions
all hold; a policy with no condition is the fallback.  A missing target for a priority
means no such target.  Everything is checked at load: a bad file stops the start with a
message naming the part.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config import TicketSettings
from gateway.tickets.calendar import BusinessCalendar, CalendarError
from gateway.tickets.priority import DEFAULT_MATRIX, PRIORITIES, PriorityError, check_matrix

TARGETS = ("first_response", "next_response", "resolution")
BREACH_ACTIONS = ("notify", "raise_priority", "escalate")
CONDITIONS = ("queue", "category", "tier", "channel")


class PolicyError(ValueError):
    """The policy file is invalid; the message says where."""


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    calendar: str
    targets: Mapping[str, Mapping[str, int]]  # target -> priority -> business minutes
    conditions: Mapping[str, str] = field(default_factory=dict)
    precedence: int = 0
    warn_share: float | None = None
    on_breach: tuple[str, ...] = ("notify",)

    def minutes(self, target: str, priority: str) -> int | None:
        return self.targets.get(target, {}).get(priority)

    def matches(self, facts: Mapping[str, str]) -> bool:
        return all(facts.get(key, "") == value for key, value in self.conditions.items())


DEFAULT_POLICY = SlaPolicy(
    name="default",
    calendar="24x7",
    targets={
        "first_response": {"P1": 15, "P2": 30, "P3": 30, "P4": 60},
        "next_response": {"P1": 30, "P2": 60, "P3": 120, "P4": 240},
        "resolution": {"P1": 240, "P2": 480, "P3": 1440, "P4": 2880},
    },
    on_breach=("notify",),
)


@dataclass(frozen=True)
class DeskPolicies:
    calendars: Mapping[str, BusinessCalendar]
    matrix: Mapping[str, Mapping[str, str]]
    policies: tuple[SlaPolicy, ...]  # in precedence order
    warn_share: float = 0.8

    def choose(self, facts: Mapping[str, str]) -> SlaPolicy:
        """The policy for a ticket with these facts (queue, category, tier, channel)."""
        for policy in self.policies:
            if policy.matches(facts):
                return policy
        return self.policies[-1] if self.policies else DEFAULT_POLICY

    def by_name(self, name: str | None) -> SlaPolicy | None:
        return next((p for p in self.policies if p.name == name), None)

    def calendar(self, policy: SlaPolicy) -> BusinessCalendar:
        return self.calendars[policy.calendar]

    def share(self, policy: SlaPolicy) -> float:
        return policy.warn_share if policy.warn_share is not None else self.warn_share

    def describe(self) -> dict[str, Any]:
        """For the API: what is in force."""
        return {
            "matrix": {u: dict(row) for u, row in self.matrix.items()},
            "warn_share": self.warn_share,
            "calendars": sorted(self.calendars),
            "policies": [
                {
                    "name": p.name, "calendar": p.calendar, "precedence": p.precedence,
                    "conditions": dict(p.conditions), "warn_share": self.share(p),
                    "on_breach": list(p.on_breach),
                    "targets": {t: dict(v) for t, v in p.targets.items()},
                }
                for p in self.policies
            ],
        }


def default_policies(settings: TicketSettings | None = None) -> DeskPolicies:
    share = settings.warn_share if settings else 0.8
    return DeskPolicies({"24x7": BusinessCalendar.always()}, DEFAULT_MATRIX, (DEFAULT_POLICY,), share)


def load_policies(settings: TicketSettings) -> DeskPolicies:
    """From ``settings.policy_file``, or the defaults when it is empty."""
    if not 0 < settings.warn_share <= 1:
        raise PolicyError("tickets.warn_share must be in (0, 1]")
    if not settings.policy_file:
        return default_policies(settings)
    path = Path(settings.policy_file)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"tickets.policy_file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    try:
        return parse_policies(data, settings.warn_share)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from exc


def parse_policies(data: Mapping[str, Any], warn_share: float = 0.8) -> DeskPolicies:
    unknown = set(data) - {"matrix", "calendars", "sla"}
    if unknown:
        raise PolicyError(f"unknown sections {sorted(unknown)}")
    try:
        matrix = check_matrix(data["matrix"]) if "matrix" in data else DEFAULT_MATRIX
    except PriorityError as exc:
        raise PolicyError(str(exc)) from exc
    calendars: dict[str, BusinessCalendar] = {"24x7": BusinessCalendar.always()}
    raw_calendars = data.get("calendars", {})
    if not isinstance(raw_calendars, Mapping):
        raise PolicyError("[calendars] must be a table of calendars")
    for name, spec in raw_calendars.items():
        if not isinstance(spec, Mapping):
            raise PolicyError(f"calendar {name} must be a table")
        try:
            calendars[name] = BusinessCalendar.from_mapping(name, dict(spec))
        except CalendarError as exc:
            raise PolicyError(str(exc)) from exc
    raw_policies = data.get("sla", [])
    if not isinstance(raw_policies, list) or not raw_policies:
        policies: list[SlaPolicy] = [DEFAULT_POLICY]
    else:
        policies = [_policy(i, spec, calendars) for i, spec in enumerate(raw_policies)]
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise PolicyError("two SLA policies have the same name")
    ordered = sorted(policies, key=lambda p: -p.precedence)  # stable: file order within a precedence
    return DeskPolicies(calendars, matrix, tuple(ordered), warn_share)


def _policy(index: int, spec: Any, calendars: Mapping[str, BusinessCalendar]) -> SlaPolicy:
    if not isinstance(spec, Mapping):
        raise PolicyError(f"[[sla]] number {index + 1} must be a table")
    name = str(spec.get("name") or f"policy-{index + 1}")
    where = f"SLA policy {name}"
    known = {"name", "calendar", "precedence", "warn_share", "on_breach", *TARGETS, *CONDITIONS}
    unknown = set(spec) - known
    if unknown:
        raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
    calendar = str(spec.get("calendar", "24x7"))
    if calendar not in calendars:
        raise PolicyError(f"{where}: unknown calendar {calendar!r}")
    targets: dict[str, dict[str, int]] = {}
    for target in TARGETS:
        raw = spec.get(target, {})
        if not isinstance(raw, Mapping):
            raise PolicyError(f"{where}: {target} must map priorities to minutes")
        for priority, minutes in raw.items():
            if priority not in PRIORITIES:
                raise PolicyError(f"{where}: {target}: unknown priority {priority!r}")
            if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
                raise PolicyError(f"{where}: {target}.{priority} must be a positive number of minutes")
        targets[target] = dict(raw)
    share = spec.get("warn_share")
    if share is not None and (not isinstance(share, int | float) or not 0 < share <= 1):
        raise PolicyError(f"{where}: warn_share must be in (0, 1]")
    actions = spec.get("on_breach", ["notify"])
    if not isinstance(actions, list) or any(a not in BREACH_ACTIONS for a in actions):
        raise PolicyError(f"{where}: on_breach must be a list among {', '.join(BREACH_ACTIONS)}")
    precedence = spec.get("precedence", 0)
    if not isinstance(precedence, int):
        raise PolicyError(f"{where}: precedence must be an integer")
    return SlaPolicy(
        name=name,
        calendar=calendar,
        targets=targets,
        conditions={k: str(spec[k]) for k in CONDITIONS if k in spec},
        precedence=precedence,
        warn_share=float(share) if share is not None else None,
        on_breach=tuple(actions),
    )
