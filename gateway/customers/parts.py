"""Who holds what about a customer: the registry of *parts* that export, erase and
merge a customer's data in their own tables.

The core part (:mod:`gateway.customers.core_data`) covers customers, identities,
conversations, messages, tickets and article drafts.  A room with tables of its own
that hold customer data (email, tickets) adds a module ``<room>/customer_data.py``
defining ``PART`` (listed in :data:`PART_MODULES`), a :class:`CustomerDataPart`
naming its tables and erasing what is personal in them::

    class MailPart(CustomerDataPart):
        name = "mail"
        tables = frozenset({"mail_inbound", "mail_attachments", ...})

        async def erase(self, session, scope):
            ...delete the raw mail of scope.conversation_ids...
            return {"mail_inbound": n}

    PART = MailPart()

Export needs no code: every row linked to the customer by a foreign key is exported
(:mod:`gateway.customers.linked`); a part may add keys (``export``).  A test checks
that every table linked to a customer is covered by some part.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

PART_MODULES = (
    "gateway.customers.core_data",
    "gateway.tickets.customer_data",
    "gateway.mail.customer_data",
    "gateway.tickets.merge_data",  # ticket merges (issue 9)
    "gateway.reports.customer_data",  # satisfaction surveys (issue 9)
    "gateway.tickets.desk_data",  # contact log, tags, incidents (issue 9)
)


@dataclass(frozen=True, slots=True)
class CustomerScope:
    """One customer's rows, read under lock at the start of the operation."""

    customer_id: int
    identity_ids: tuple[int, ...]
    conversation_ids: tuple[int, ...]
    ticket_ids: tuple[int, ...]


class CustomerDataPart:
    """A room's share of a customer's data.  Subclasses set ``name`` and ``tables``
    and override what applies; every method runs in the caller's transaction."""

    name: str = ""
    tables: frozenset[str] = frozenset()

    async def export(self, session: AsyncSession, scope: CustomerScope) -> dict[str, Any]:
        """Keys added to the export (beyond the linked rows exported for every table)."""
        return {}

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        """Remove what is personal in this part's tables; returns counts by table.
        Runs before the core part deletes messages and identities."""
        return {}

    async def merge(self, session: AsyncSession, source: CustomerScope, target_id: int) -> None:
        """Move what belongs to ``source`` to the customer ``target_id`` (before the
        core part moves identities and conversations and deletes the source)."""


_EXTRA: list[CustomerDataPart] = []


def register(part: CustomerDataPart) -> None:
    """Add a part that does not live in one of :data:`PART_MODULES` (tests, plugins)."""
    if all(p is not part for p in _EXTRA):
        _EXTRA.append(part)


def unregister(part: CustomerDataPart) -> None:
    if part in _EXTRA:
        _EXTRA.remove(part)


def parts() -> list[CustomerDataPart]:
    """Every part: the core first, then the rooms' (a missing room module is skipped:
    a room without the module has no tables of its own)."""
    found: list[CustomerDataPart] = []
    for module_name in PART_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        found.append(module.PART)
    return found + list(_EXTRA)
