"""The periodic SLA and appointment sweep, a ``cleanup_ctx`` service.

Every ``tickets.sweep_interval`` seconds, from the recorded history only (so it also
does the work of a hook the core did not call):

1. initialise tickets the desk has not seen (priority, SLA policy, deadlines);
2. end ``pending_customer`` where the customer has written since;
3. recompute every active ticket's clocks; record a warning / breach once per target
   and clock cycle (``sla_alerts``); on a breach apply the policy's actions (raise the
   priority, move to second level) at once;
4. publish ``sla.warning`` / ``sla.breach`` on the bus **only within the business hours
   of the ticket's calendar**: an alert raised at night waits for the morning;
5. remind due appointments, mark missed ones;
6. close tickets resolved more than ``tickets.close_after_days`` ago;
7. with ``tickets.auto_assign``, give new tickets round-robin.

Each ticket is handled in its own transaction under its conversation's lock; a failure
on one is logged and the sweep goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from gateway.db.tables import Message, Ticket
from gateway.db.tables_tickets import Queue, SlaAlert
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import AuthorKind
from gateway.models import TicketStatus as S
from gateway.periodic import periodic
from gateway.tickets import appointments, history, hooks, lifecycle, priority, queues, sla_clock
from gateway.tickets.sla import BREACHED, WARNING

log = logging.getLogger(__name__)
ACTIVE = [s.value for s in lifecycle.ACTIVE]


@dataclass
class SweepReport:
    initialised: int = 0
    reopened: int = 0
    alerts: list[tuple[str, str, str]] = field(default_factory=list)  # (number, target, kind)
    notified: list[tuple[str, str, str]] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    reminders: int = 0
    closed: int = 0
    assigned: int = 0
    errors: int = 0


async def _ids(store: SqlStore, stmt: Any) -> list[int]:
    async with store.read() as tx:
        return [int(i) for i in (await tx.session.execute(stmt)).scalars()]


async def sweep_once(store: SqlStore) -> SweepReport:
    report = SweepReport()
    for ticket_id in await _ids(
        store,
        select(Ticket.id).where(Ticket.sla_policy.is_(None), Ticket.status.in_(ACTIVE)).order_by(Ticket.id),
    ):
        await _guarded(report, _initialise(store, ticket_id, report))
    for ticket_id in await _ids(
        store, select(Ticket.id).where(Ticket.status == S.PENDING_CUSTOMER.value).order_by(Ticket.id)
    ):
        await _guarded(report, _customer_answered(store, ticket_id, report))
    for ticket_id in await _ids(
        store, select(Ticket.id).where(Ticket.status.in_(ACTIVE)).order_by(Ticket.id)
    ):
        await _guarded(report, _clocks(store, ticket_id, report))
    await _guarded(report, _deferred_notifications(store, report))
    async with store.tx() as tx:
        report.reminders = len(await appointments.sweep_appointments(tx, tx.now()))
    await _guarded(report, _auto_close(store, report))
    if store.settings.tickets.auto_assign:
        service = queues.QueueService(store)
        for name in await _names(store):
            report.assigned += len(await service.round_robin(name))
    return report


async def _names(store: SqlStore) -> list[str]:
    async with store.read() as tx:
        return [str(n) for n in (await tx.session.execute(select(Queue.name))).scalars()]


async def _guarded(report: SweepReport, work: Any) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        report.errors += 1
        log.exception("ticket sweep: one step failed; the sweep goes on")


async def _initialise(store: SqlStore, ticket_id: int, report: SweepReport) -> None:
    async with store.tx() as tx:
        ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
        if await hooks.on_ticket_created(tx, ticket, conv) is not None:
            report.initialised += 1
            await tx.emit_ticket("ticket.updated", ticket)


async def _customer_answered(store: SqlStore, ticket_id: int, report: SweepReport) -> None:
    async with store.tx() as tx:
        ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
        pause = await history.running_pause(tx.session, ticket.id)
        if ticket.status != S.PENDING_CUSTOMER.value or pause is None:
            return
        wrote = await tx.session.scalar(
            select(Message.id)
            .where(
                Message.conversation_id == conv.id,
                Message.author_kind == AuthorKind.CUSTOMER.value,
                Message.created_at > pause.started_at,
            )
            .limit(1)
        )
        if wrote is not None and await hooks.on_customer_message(tx, conv):
            report.reopened += 1


async def _clocks(store: SqlStore, ticket_id: int, report: SweepReport) -> None:
    async with store.tx() as tx:
        ticket, _ = await lifecycle.locked_ticket(tx, ticket_id)
        if ticket.status not in ACTIVE:
            return
        policies = sla_clock.get_policies(tx.settings.tickets)
        old_due = ticket.sla_due
        status = await sla_clock.refresh(tx, ticket, policies)
        policy = policies.by_name(status.policy)
        assert policy is not None
        calendar = policies.calendar(policy)
        changed = old_due != ticket.sla_due
        for clock in status.clocks:
            if not clock.open or clock.state not in (WARNING, BREACHED):
                continue
            kinds = ["breach"] if clock.state == BREACHED else ["warning"]
            for kind in kinds:
                alert = await _alert(tx, ticket, clock.target, kind, clock.cycle_at, clock.due_at)
                if alert is None:
                    continue
                report.alerts.append((ticket.number or "", clock.target, kind))
                if kind == "breach":
                    changed = True
                    await _on_breach(tx, ticket, clock.target, policy.on_breach, report)
                    if "notify" not in policy.on_breach:
                        alert.notified_at = tx.now()  # nothing to tell
                        continue
                if calendar.is_open(tx.now()):
                    _publish(tx, ticket, alert)
                    alert.notified_at = tx.now()
                    report.notified.append((ticket.number or "", clock.target, kind))
        if changed:
            await tx.emit_ticket("ticket.updated", ticket)


async def _alert(
    tx: Tx, ticket: Ticket, target: str, kind: str, cycle_at: Any, due_at: Any
) -> SlaAlert | None:
    """A new alert row, or None if this one was recorded before."""
    found = await tx.session.scalar(
        select(SlaAlert.id).where(
            SlaAlert.ticket_id == ticket.id,
            SlaAlert.target == target,
            SlaAlert.kind == kind,
            SlaAlert.cycle_at == cycle_at,
        )
    )
    if found is not None:
        return None
    alert = SlaAlert(
        ticket_id=ticket.id,
        target=target,
        kind=kind,
        cycle_at=cycle_at,
        due_at=due_at or tx.now(),
        created_at=tx.now(),
    )
    tx.session.add(alert)
    await tx.session.flush()
    await history.record(tx, ticket, f"sla_{kind}", {}, {"target": target, "due_at": due_at}, actor_id=None)
    return alert


async def _on_breach(
    tx: Tx, ticket: Ticket, target: str, actions: tuple[str, ...], report: SweepReport
) -> None:
    conv = await tx.conversation(ticket.conversation_id)
    label = target.replace("_", " ")
    if "raise_priority" in actions and ticket.priority != priority.PRIORITIES[0]:
        before = {"priority": ticket.priority}
        ticket.priority = priority.raised(ticket.priority)
        await history.record(
            tx,
            ticket,
            "priority",
            before,
            {"priority": ticket.priority},
            actor_id=None,
            reason=f"SLA breach: {label}",
        )
        await tx.add_event(conv, f"SLA breach ({label}): priority {before['priority']} → {ticket.priority}.")
        report.raised.append(ticket.number or "")
    if "escalate" in actions and ticket.queue != tx.settings.tickets.second_level_queue:
        await queues.escalate_in(tx, ticket, actor_id=None, actor_name="SLA", reason=f"SLA breach: {label}")
        report.escalated.append(ticket.number or "")
    await sla_clock.refresh(tx, ticket)


def _publish(tx: Tx, ticket: Ticket, alert: SlaAlert) -> None:
    tx.emit(
        f"sla.{alert.kind}",
        {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "subject": ticket.subject,
            "target": alert.target,
            "due_at": alert.due_at.isoformat(),
            "priority": ticket.priority,
            "queue": ticket.queue,
            "assignee_id": ticket.assignee_id,
        },
    )


async def _deferred_notifications(store: SqlStore, report: SweepReport) -> None:
    """Alerts raised outside business hours, told now if their calendar is open."""
    async with store.tx() as tx:
        policies = sla_clock.get_policies(tx.settings.tickets)
        rows = (
            await tx.session.execute(
                select(SlaAlert, Ticket)
                .join(Ticket, Ticket.id == SlaAlert.ticket_id)
                .where(SlaAlert.notified_at.is_(None))
                .order_by(SlaAlert.id)
            )
        ).all()
        for alert, ticket in rows:
            policy = policies.by_name(ticket.sla_policy) or policies.choose({})
            if ticket.status not in ACTIVE:
                alert.notified_at = tx.now()  # resolved meanwhile: nothing to tell
            elif policies.calendar(policy).is_open(tx.now()):
                _publish(tx, ticket, alert)
                alert.notified_at = tx.now()
                report.notified.append((ticket.number or "", alert.target, alert.kind))


async def _auto_close(store: SqlStore, report: SweepReport) -> None:
    days = store.settings.tickets.close_after_days
    if days <= 0:
        return
    cutoff = store.clock.now() - timedelta(days=days)
    for ticket_id in await _ids(
        store, select(Ticket.id).where(Ticket.status == S.RESOLVED.value, Ticket.resolved_at <= cutoff)
    ):
        async with store.tx() as tx:
            ticket, conv = await lifecycle.locked_ticket(tx, ticket_id)
            if ticket.status == S.RESOLVED.value:
                await lifecycle.transition(
                    tx,
                    ticket,
                    conv,
                    S.CLOSED,
                    actor_id=None,
                    reason=f"resolved for {days:g} days",
                    announce=False,
                )
                report.closed += 1


def ticket_sweeper(store: SqlStore) -> Callable[[Any], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry running :func:`sweep_once` every
    ``tickets.sweep_interval`` seconds (0: never), cancelled on shutdown."""

    async def step() -> None:
        report = await sweep_once(store)
        if report.alerts or report.reminders or report.closed or report.errors:
            log.info("ticket sweep: %s", report)

    return periodic(
        "ticket sweep", lambda: store.settings.tickets.sweep_interval, step, task_name="ticket-sweeper"
    )
