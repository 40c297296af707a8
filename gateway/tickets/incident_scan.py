"""Finding incidents (issue 9): a burst of similar tickets within a window.

The recent active tickets (created within ``incidents.window_minutes``) and those of
open incidents are put in topics by the knowledge-base gaps' clustering
(:func:`gateway.kb.gaps.cluster` over :class:`gateway.kb.vectors.TfidfVectorizer`
vectors of each ticket's subject and first real customer messages, at the cosine
``incidents.similarity``).  A topic with ``incidents.min_tickets`` tickets or more
that belong to no incident raises one (``incident.raised``, for the supervisors'
consoles); new tickets of a topic that already has an open incident are suggested
to it (``incident.updated``).  The detector only suggests: supervisors link.

Run by a periodic ``cleanup_ctx`` service (``incidents.scan_interval``) and by
``POST /api/desk/incidents/scan``; one pass is :func:`scan_once`.  Two processes
scanning at the same instant could raise the same burst twice (no lock is taken
across the pass); run the scan in one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from gateway.db.tables import Message, Ticket
from gateway.db.tables_desk import Incident, IncidentTicket
from gateway.flow.intents import Intent, classify
from gateway.flow.signals import frustration
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.kb.gaps import cluster
from gateway.kb.vectors import TfidfVectorizer
from gateway.models import AuthorKind, MessageKind
from gateway.periodic import periodic
from gateway.tickets.lifecycle import ACTIVE

FIRST_MESSAGES = 3  # customer messages read per ticket besides its subject


@dataclass
class ScanReport:
    raised: list[int] = field(default_factory=list)  # new incident ids
    grown: dict[int, list[int]] = field(default_factory=dict)  # incident id -> tickets suggested


async def ticket_text(tx: Tx, ticket: Ticket) -> str:
    """The subject and the first real customer messages ("a person please" left out)."""
    stmt = (
        select(Message.text)
        .where(
            Message.conversation_id == ticket.conversation_id,
            Message.author_kind == AuthorKind.CUSTOMER.value,
            Message.kind == MessageKind.MESSAGE.value,
        )
        .order_by(Message.id)
        .limit(FIRST_MESSAGES * 3)
    )
    texts = [str(t) for t in (await tx.session.execute(stmt)).scalars()]
    real = [t for t in texts if classify(t) is Intent.NONE and not frustration(t)][:FIRST_MESSAGES]
    parts = [ticket.subject or ""] + [t for t in real if t.strip() != (ticket.subject or "").strip()]
    return " ".join(p for p in parts if p)


def topics(texts: Sequence[str], similarity: float) -> list[list[int]]:
    """Indexes of ``texts`` grouped by topic, biggest first."""
    if not texts:
        return []
    vectorizer = TfidfVectorizer(threshold=similarity)
    return cluster(vectorizer.vectors(list(texts)), similarity)


async def scan_once(store: SqlStore) -> ScanReport:
    """One pass: read and cluster in a read transaction (the clustering off the event
    loop), then write only when a burst was found, checking again under the write."""
    cfg = store.settings.incidents
    report = ScanReport()
    if not cfg.enabled:
        return report
    async with store.read() as tx:
        since = tx.now() - timedelta(minutes=cfg.window_minutes)
        taken, open_of = await _memberships(tx)
        stmt = select(Ticket).where(Ticket.status.in_([s.value for s in ACTIVE])).where(
            (Ticket.created_at >= since) | Ticket.id.in_(list(open_of) or [-1])
        ).order_by(Ticket.id)
        tickets = list((await tx.session.execute(stmt)).scalars())
        texts = [await ticket_text(tx, t) for t in tickets]
    groups = await asyncio.to_thread(topics, texts, cfg.similarity)
    plans: list[tuple[int | None, str, list[int]]] = []  # (open incident or None, title, fresh ids)
    for group in groups:
        members = [tickets[i] for i in group]
        fresh = [t.id for t in members if t.id not in taken]
        incident_ids = sorted({open_of[t.id] for t in members if t.id in open_of})
        if fresh and (incident_ids or len(fresh) >= cfg.min_tickets):
            plans.append((incident_ids[0] if incident_ids else None, _title(members), fresh))
            taken.update(fresh)
    if not plans:
        return report
    async with store.tx() as tx:
        taken, _ = await _memberships(tx)  # again, under the write: another scan may have been quicker
        for incident_id, title, ids in plans:
            found = [await tx.session.get(Ticket, i) for i in ids if i not in taken]
            new = [t for t in found if t is not None]
            incident = await tx.session.get(Incident, incident_id) if incident_id is not None else None
            if incident is not None and incident.status == "open" and new:
                await _suggest(tx, incident, new)
                report.grown[incident.id] = [t.id for t in new]
                tx.emit("incident.updated", await incident_event(tx, incident, new))
            elif incident_id is None and len(new) >= cfg.min_tickets:
                incident = Incident(title=title, status="open", detected=True, created_at=tx.now(),
                                    status_message="")
                tx.session.add(incident)
                await tx.session.flush()
                await _suggest(tx, incident, new)
                report.raised.append(incident.id)
                tx.emit("incident.raised", await incident_event(tx, incident, new))
    return report


async def _memberships(tx: Tx) -> tuple[set[int], dict[int, int]]:
    """Tickets in any incident, and each ticket's earliest open incident."""
    rows = (await tx.session.execute(
        select(IncidentTicket.ticket_id, IncidentTicket.incident_id, Incident.status)
        .join(Incident, Incident.id == IncidentTicket.incident_id)
        .order_by(IncidentTicket.incident_id)
    )).all()
    open_of: dict[int, int] = {}
    for ticket_id, incident_id, status in rows:
        if status == "open":
            open_of.setdefault(int(ticket_id), int(incident_id))
    return {int(r[0]) for r in rows}, open_of


async def _suggest(tx: Tx, incident: Incident, tickets: Sequence[Ticket]) -> None:
    for ticket in tickets:
        tx.session.add(IncidentTicket(
            incident_id=incident.id, ticket_id=ticket.id, state="suggested", created_at=tx.now()
        ))
    await tx.session.flush()


def _title(members: Sequence[Ticket]) -> str:
    """The subject of the topic's earliest ticket (a person's words, not a centroid)."""
    subject = next((t.subject for t in members if t.subject and t.subject != "(no subject)"), "")
    return (subject or "Similar tickets")[:300]


async def incident_event(tx: Tx, incident: Incident, tickets: Sequence[Ticket]) -> dict[str, Any]:
    """What the consoles get: the incident and the tickets just suggested to it."""
    count = len(list((await tx.session.execute(
        select(IncidentTicket.id).where(IncidentTicket.incident_id == incident.id))).scalars()))
    return {
        "incident_id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "tickets": count,
        "new_tickets": [{"id": t.id, "number": t.number, "subject": t.subject} for t in tickets],
        "for_roles": ["supervisor", "admin"],
    }


def incident_scanner(store: SqlStore) -> Any:
    """The periodic scan as a ``cleanup_ctx`` entry (``incidents.scan_interval``)."""

    async def step() -> None:
        await scan_once(store)

    return periodic(
        "incident scan", lambda: store.settings.incidents.scan_interval if store.settings.incidents.enabled
        else 0.0, step, task_name="incident-scanner",
    )
