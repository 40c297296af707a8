"""The audit log: every change with who, what, when, before and after."""

from gateway.audit.log import (
    Actor,
    AuditView,
    actor_for,
    current_actor,
    jsonable,
    list_entries,
    record,
    reset_current_actor,
    set_current_actor,
)

__all__ = [
    "Actor",
    "AuditView",
    "actor_for",
    "current_actor",
    "jsonable",
    "list_entries",
    "record",
    "reset_current_actor",
    "set_current_actor",
]
