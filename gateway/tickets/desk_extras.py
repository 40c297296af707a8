"""The contact log, tags and incidents together, as the web app holds them
(``keys.DESK_EXTRAS``)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.flow.store import SqlStore
from gateway.tickets.contacts import ContactLog
from gateway.tickets.incidents import IncidentService
from gateway.tickets.tags import TagService


@dataclass(frozen=True)
class DeskExtras:
    contacts: ContactLog
    tags: TagService
    incidents: IncidentService

    @classmethod
    def on(cls, store: SqlStore) -> DeskExtras:
        return cls(ContactLog(store), TagService(store), IncidentService(store))
