"""The console's ticket lists: views (mine, unassigned, my queues, all open, pending,
resolved), search over tickets and their messages (subject, text, customer, number),
filters (status, priority, queue, assignee, category, tag) and sort (priority, SLA due,
created, updated).  One query with the customer's identity and the assignee joined:
no query per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, or_, select

from gateway.db.tables import Conversation, IdentityRow, Message, Ticket, User
from gateway.db.tables_desk import TicketTag
from gateway.db.tables_tickets import Queue, QueueMember
from gateway.errors import InvalidInputError
from gateway.flow.store import SqlStore
from gateway.models import TicketStatus as S
from gateway.tickets.desk import desk_fields
from gateway.tickets.tags import normalise, tags_by_ticket

ACTIVE = [S.NEW.value, S.OPEN.value, S.PENDING_CUSTOMER.value, S.PENDING_THIRD_PARTY.value]
VIEWS: dict[str, list[str]] = {
    "mine": ACTIVE,
    "unassigned": ACTIVE,
    "my_queues": ACTIVE,
    "open": ACTIVE,
    "pending": [S.PENDING_CUSTOMER.value, S.PENDING_THIRD_PARTY.value],
    "resolved": [S.RESOLVED.value, S.CLOSED.value],
    "all": [s.value for s in S],
}
SORTS = ("priority", "sla_due", "created", "updated")
MAX_QUERY = 200


@dataclass(frozen=True)
class TicketQuery:
    view: str = "open"
    text: str = ""
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    queue: str | None = None
    assignee_id: int | None = None
    category: str | None = None
    tag: str | None = None  # normalised like the tags (gateway.tickets.tags)
    sort: str = "priority"
    limit: int = 100
    offset: int = 0

    def check(self) -> None:
        if self.view not in VIEWS:
            raise InvalidInputError(f"view must be one of {', '.join(VIEWS)}")
        if self.sort not in SORTS:
            raise InvalidInputError(f"sort must be one of {', '.join(SORTS)}")
        bad = [s for s in self.statuses if s not in {x.value for x in S}]
        if bad:
            raise InvalidInputError(f"unknown status {bad[0]!r}")
        bad = [p for p in self.priorities if p not in ("P1", "P2", "P3", "P4")]
        if bad:
            raise InvalidInputError(f"unknown priority {bad[0]!r}")
        if len(self.text) > MAX_QUERY:
            raise InvalidInputError(f"the search is longer than {MAX_QUERY} characters")
        if not 1 <= self.limit <= 500 or self.offset < 0:
            raise InvalidInputError("limit is 1..500 and offset at least 0")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def build(query: TicketQuery, user_id: int) -> Select[Any]:
    query.check()
    stmt = (
        select(Ticket, Conversation.channel, IdentityRow.display_name, IdentityRow.address, User)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .join(IdentityRow, IdentityRow.id == Conversation.identity_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
    )
    statuses = [s for s in query.statuses if s in VIEWS[query.view]] if query.statuses else VIEWS[query.view]
    stmt = stmt.where(Ticket.status.in_(statuses or ["-"]))
    if query.view == "mine":
        stmt = stmt.where(Ticket.assignee_id == user_id)
    elif query.view == "unassigned":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif query.view == "my_queues":
        mine = (
            select(Queue.name)
            .join(QueueMember, QueueMember.queue_id == Queue.id)
            .where(QueueMember.user_id == user_id)
        )
        stmt = stmt.where(Ticket.queue.in_(mine))
    if query.priorities:
        stmt = stmt.where(Ticket.priority.in_(query.priorities))
    if query.queue:
        stmt = stmt.where(Ticket.queue == query.queue)
    if query.assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == query.assignee_id)
    if query.category is not None:
        stmt = stmt.where(Ticket.category == query.category)
    if query.tag:
        tagged = exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag == normalise(query.tag))
        stmt = stmt.where(tagged)
    text = " ".join(query.text.split())
    if text:
        like = f"%{_escape_like(text)}%"
        in_messages = exists().where(
            Message.conversation_id == Ticket.conversation_id,
            Message.text.ilike(like, escape="\\"),
        )
        stmt = stmt.where(
            or_(
                Ticket.number.ilike(like, escape="\\"),
                Ticket.subject.ilike(like, escape="\\"),
                IdentityRow.display_name.ilike(like, escape="\\"),
                IdentityRow.address.ilike(like, escape="\\"),
                in_messages,
            )
        )
    due_missing = Ticket.sla_due.is_(None)
    order: list[Any] = {
        "priority": [Ticket.priority, due_missing, Ticket.sla_due, Ticket.created_at],
        "sla_due": [due_missing, Ticket.sla_due, Ticket.priority, Ticket.created_at],
        "created": [Ticket.created_at.desc()],
        "updated": [Ticket.updated_at.desc()],
    }[query.sort]  # type: ignore[assignment]
    return stmt.order_by(*order, Ticket.id).limit(query.limit).offset(query.offset)  # type: ignore[return-value]


class TicketSearch:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def find(self, query: TicketQuery, user_id: int) -> list[dict[str, Any]]:
        async with self.store.read() as tx:
            rows = (await tx.session.execute(build(query, user_id))).all()
            tags = await tags_by_ticket(tx.session, [row[0].id for row in rows])
            return [{**row_dict(*row), "tags": tags.get(row[0].id, [])} for row in rows]


def row_dict(
    ticket: Ticket, channel: str, display_name: str, address: str, user: User | None
) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": ticket.id,
        "number": ticket.number or "",
        "conversation_id": ticket.conversation_id,
        "status": ticket.status,
        "queue": ticket.queue,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "assignee_id": ticket.assignee_id,
        "assignee_name": (user.display_name or user.name) if user else None,
        "customer_name": display_name or address,
        "channel": channel,
        "handoff_reason": ticket.handoff_reason,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        **desk_fields(ticket),
    }
