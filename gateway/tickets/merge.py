"""Merging ticket B into ticket A (issue 9), and accepting email's "possibly the same
as G-…" suggestions by such a merge.

What a merge does, in one transaction under both conversations' locks (taken in
ascending id order, so two merges of the same pair in opposite directions cannot
deadlock):

- B's conversation history **moves** into A's conversation: its messages (ordered by
  id, so they fall into place in A's timeline), its stored mails (``mail_inbound``),
  our mails in it (``mail_outbound``: a customer's reply to one of them now threads
  into A) and its mail participants (they may then write to A's thread);
- B is closed and points to A (a ``ticket_merges`` row; a ticket is merged away at
  most once), with an event line in both conversations and a recorded ``merge`` /
  ``merged_in`` change on both tickets (the audit listeners see them);
- two different customers' tickets are refused, unless a supervisor forces it with
  an explicit flag and a reason (recorded as ``forced``);
- accepting email's "possibly the same as" suggestion is the operator's explicit
  decision about that very mail: allowed even when its sender is another customer
  record (that is what a suggestion is for), recorded with the suggestion's id
  (``two_customers`` on the merge and in both tickets' history; the audit log's
  ``mail.suggestion.merge``), with no force needed.  Both accept routes (the desk's
  and the mail room's) run :meth:`TicketMerger.accept_suggestion`.

See docs/TICKETS.md "Merging tickets" for why history is moved, not linked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select, update

from gateway.db.tables import Conversation, Message, Ticket
from gateway.db.tables_mail import MailInbound, MailOutbound, MailParticipant, MailSuggestion
from gateway.db.tables_merge import TicketMerge
from gateway.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import ConversationState
from gateway.models import TicketStatus as S
from gateway.tickets import history, lifecycle, sla_clock
from gateway.tickets.desk import clean_reason, name_of
from gateway.views import UserView

FORCING_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True, slots=True)
class MergeResult:
    merge_id: int
    source_ticket_id: int | None
    source_number: str | None
    target_ticket_id: int | None
    target_number: str | None
    source_conversation_id: int
    target_conversation_id: int
    moved_messages: int
    forced: bool  # two customers' tickets merged by a supervisor's force
    suggestion_id: int | None = None
    two_customers: bool = False  # the two sides were different customer records

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def may_force(user: UserView) -> bool:
    return user.role in FORCING_ROLES


class TicketMerger:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def merge(
        self, source_id: int, target_id: int, user: UserView, *, force: bool = False, reason: str = ""
    ) -> MergeResult:
        """Merge ticket ``source_id`` (B) into ticket ``target_id`` (A)."""
        reason = _checked(user, force, reason)
        if source_id == target_id:
            raise InvalidInputError("a ticket cannot be merged into itself")
        async with self.store.tx() as tx:
            source, target = await tx.ticket(source_id), await tx.ticket(target_id)
            src_conv, dst_conv = await lock_pair(tx, source.conversation_id, target.conversation_id)
            await tx.session.refresh(source)
            await tx.session.refresh(target)
            return await _merge_locked(tx, src_conv, dst_conv, source, target, user, force, reason)

    async def accept_suggestion(
        self, suggestion_id: int, user: UserView, *, force: bool = False, reason: str = ""
    ) -> MergeResult:
        """Accept email's "possibly the same as" suggestion: the new conversation (and
        its ticket, if it has one) is merged into the suggested one's newest ticket.
        An operator may accept it although the sender is another customer record:
        the suggestion is about that very mail (recorded with its id); ``force`` is
        not needed for it, and a supervisor's ``reason`` is kept when given."""
        reason = _checked(user, force, reason)
        async with self.store.tx() as tx:
            suggestion = await tx.session.get(MailSuggestion, suggestion_id)
            if suggestion is None:
                raise NotFoundError(f"no merge suggestion {suggestion_id}")
            src_conv, dst_conv = await lock_pair(tx, suggestion.conversation_id, suggestion.candidate_id)
            await tx.session.refresh(suggestion)
            if suggestion.status != "open":
                raise ConflictError(f"suggestion {suggestion_id} was already {suggestion.status}")
            source = await newest_ticket(tx, src_conv.id)
            target = await newest_ticket(tx, dst_conv.id)
            result = await _merge_locked(
                tx, src_conv, dst_conv, source, target, user, force, reason, suggestion_id=suggestion_id
            )
            suggestion.status, suggestion.decided_by, suggestion.decided_at = "accepted", user.id, tx.now()
            return result

    async def merges_of(self, ticket_id: int) -> dict[str, Any]:
        """Where a ticket went (``merged_into``) and what came into it (``merged_from``)."""
        async with self.store.read() as tx:
            await tx.ticket(ticket_id)
            rows = (
                await tx.session.execute(
                    select(TicketMerge)
                    .where(
                        (TicketMerge.source_ticket_id == ticket_id)
                        | (TicketMerge.target_ticket_id == ticket_id)
                    )
                    .order_by(TicketMerge.id)
                )
            ).scalars()
            found = [await _merge_dict(tx, m) for m in rows]
        return {
            "merged_into": next((m for m in found if m["source_ticket_id"] == ticket_id), None),
            "merged_from": [m for m in found if m["target_ticket_id"] == ticket_id],
        }


def _checked(user: UserView, force: bool, reason: str) -> str:
    if force and not may_force(user):
        raise ForbiddenError("merging two customers' tickets is for supervisors (force)")
    return clean_reason(reason, required=force)


async def lock_pair(tx: Tx, first_id: int, second_id: int) -> tuple[Conversation, Conversation]:
    """Both conversations locked, the lower id first (a fixed order: no deadlock between
    two merges of the same pair); returned as ``(first_id's, second_id's)``."""
    locked: dict[int, Conversation] = {}
    for conv_id in sorted({first_id, second_id}):
        locked[conv_id] = await tx.lock_conversation(conv_id)
    return locked[first_id], locked[second_id]


async def newest_ticket(tx: Tx, conversation_id: int) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc())
    return (await tx.session.execute(stmt.limit(1))).scalar_one_or_none()


async def _merge_locked(
    tx: Tx,
    src_conv: Conversation,
    dst_conv: Conversation,
    source: Ticket | None,
    target: Ticket | None,
    user: UserView,
    force: bool,
    reason: str,
    *,
    suggestion_id: int | None = None,
) -> MergeResult:
    session = tx.session
    if source is not None and target is not None and source.id == target.id:
        raise ConflictError("both sides are the same ticket")
    if source is None and src_conv.id == dst_conv.id:
        raise ConflictError("both sides are the same conversation")
    if source is not None:
        earlier = await session.scalar(select(TicketMerge).where(TicketMerge.source_ticket_id == source.id))
        if earlier is not None:
            raise ConflictError(f"ticket {source.number} was already merged into another ticket")
    if target is not None and target.status == S.CLOSED.value:
        went = await session.scalar(select(TicketMerge).where(TicketMerge.source_ticket_id == target.id))
        where = f" (it was merged into {await _number(tx, went.target_ticket_id)})" if went else ""
        raise ConflictError(f"ticket {target.number} is closed{where}; merge into an open ticket")
    two_customers = src_conv.customer_id != dst_conv.customer_id
    if two_customers and not force and suggestion_id is None:
        raise ConflictError(
            "these tickets belong to two different customers; a supervisor can merge them with "
            '"force": true and a reason'
        )
    who = name_of(user)
    into = (target.number or f"ticket {target.id}") if target is not None else f"conversation {dst_conv.id}"
    moved = 0
    if src_conv.id != dst_conv.id:
        moved = await _move_history(tx, src_conv.id, dst_conv.id)
    if source is not None:
        await _close_source(tx, source, src_conv, user, into, reason, suggestion_id)
    elif src_conv.state != ConversationState.RESOLVED.value:
        tx.set_state(src_conv, ConversationState.RESOLVED)
    forced = two_customers and suggestion_id is None
    what = f"ticket {source.number}" if source is not None else f"conversation {src_conv.id}"
    if suggestion_id is not None:
        what = f"{what} (accepted suggestion {suggestion_id})"
    why = f" ({reason})" if reason else ""
    if target is not None:
        await history.record(
            tx, target, "merged_in", {},
            {"from_ticket": source.number if source else None, "from_conversation": src_conv.id,
             "moved_messages": moved, "forced": forced, "two_customers": two_customers,
             "suggestion_id": suggestion_id},
            actor_id=user.id, reason=reason,
        )
        target.updated_at = tx.now()
    await tx.add_event(dst_conv, f"{who}: {what} merged into this one ({moved} messages moved){why}.")
    if src_conv.id != dst_conv.id:
        await tx.add_event(src_conv, f"{who}: merged into {into}{why}.")
    row = TicketMerge(
        source_ticket_id=source.id if source else None,
        target_ticket_id=target.id if target else None,
        source_conversation_id=src_conv.id,
        target_conversation_id=dst_conv.id,
        moved_messages=moved,
        forced=forced,
        suggestion_id=suggestion_id,
        actor_id=user.id,
        reason=reason,
        created_at=tx.now(),
    )
    session.add(row)
    await session.flush()
    tx.emit("conversation.merged", {"from": src_conv.id, "into": dst_conv.id, "merge_id": row.id})
    for ticket in (source, target):
        if ticket is not None:
            await tx.emit_ticket("ticket.updated", ticket)
    return MergeResult(
        row.id, row.source_ticket_id, source.number if source else None, row.target_ticket_id,
        target.number if target else None, src_conv.id, dst_conv.id, moved, forced, suggestion_id,
        two_customers,
    )


async def _move_history(tx: Tx, source_id: int, target_id: int) -> int:
    """Messages, stored mails, our mails and mail participants of one conversation into another."""
    session = tx.session
    moved = await session.scalar(
        select(func.count(Message.id)).where(Message.conversation_id == source_id)
    )
    for table in (Message, MailInbound, MailOutbound):
        await session.execute(
            update(table)
            .where(table.conversation_id == source_id)
            .values(conversation_id=target_id)
        )
    participants = select(MailParticipant.address).where(MailParticipant.conversation_id == source_id)
    known_stmt = select(MailParticipant.address).where(MailParticipant.conversation_id == target_id)
    known = set((await session.execute(known_stmt)).scalars())
    for address in sorted(set((await session.execute(participants)).scalars()) - known):
        session.add(
            MailParticipant(conversation_id=target_id, address=address, role="cc", created_at=tx.now())
        )
    return int(moved or 0)


async def _close_source(
    tx: Tx, source: Ticket, conv: Conversation, user: UserView, into: str, reason: str,
    suggestion_id: int | None,
) -> None:
    if source.status != S.CLOSED.value:
        await lifecycle.transition(
            tx, source, conv, S.CLOSED, actor_id=user.id, actor_name=name_of(user),
            reason=f"merged into {into}", announce=False,
        )
        if source.sla_policy is not None:
            await sla_clock.refresh(tx, source)
    after: dict[str, Any] = {"merged_into": into}
    if suggestion_id is not None:
        after["suggestion_id"] = suggestion_id
    await history.record(tx, source, "merge", {"merged_into": None}, after, actor_id=user.id, reason=reason)


async def _number(tx: Tx, ticket_id: int | None) -> str:
    ticket = await tx.session.get(Ticket, ticket_id) if ticket_id is not None else None
    return (ticket.number or f"ticket {ticket.id}") if ticket is not None else "a deleted ticket"


async def _merge_dict(tx: Tx, m: TicketMerge) -> dict[str, Any]:
    return {
        "id": m.id,
        "source_ticket_id": m.source_ticket_id,
        "source_number": await _number(tx, m.source_ticket_id) if m.source_ticket_id else None,
        "target_ticket_id": m.target_ticket_id,
        "target_number": await _number(tx, m.target_ticket_id) if m.target_ticket_id else None,
        "source_conversation_id": m.source_conversation_id,
        "target_conversation_id": m.target_conversation_id,
        "moved_messages": m.moved_messages,
        "forced": m.forced,
        "suggestion_id": m.suggestion_id,
        "actor_id": m.actor_id,
        "reason": m.reason,
        "at": m.created_at.isoformat(),
    }
