"""The desk's services together, as the web app holds them (``keys.DESK``)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.flow.store import SqlStore
from gateway.tickets.appointments import AppointmentService
from gateway.tickets.canned import CannedService
from gateway.tickets.desk import TicketDesk
from gateway.tickets.queues import QueueService
from gateway.tickets.search import TicketSearch


@dataclass(frozen=True)
class DeskServices:
    desk: TicketDesk
    queues: QueueService
    appointments: AppointmentService
    canned: CannedService
    search: TicketSearch

    @classmethod
    def on(cls, store: SqlStore) -> DeskServices:
        return cls(
            TicketDesk(store),
            QueueService(store),
            AppointmentService(store),
            CannedService(store),
            TicketSearch(store),
        )
