"""Customers: their identities, merging two, and GDPR export and erasure.

Every change runs in one transaction holding the customer's conversations locked
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction is alone) and
writes its audit entry there.  Parts (:mod:`gateway.customers.parts`) do each
room's share; the core part runs last on erase and merge.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import Actor, list_entries, record
from gateway.clock import Clock
from gateway.customers.linked import linked_rows
from gateway.customers.parts import CustomerScope, parts
from gateway.db.tables import Conversation, Customer, IdentityRow, Ticket
from gateway.errors import ConflictError, InvalidInputError, NotFoundError

EXPORT_FORMAT = "guichet.customer-export/1"
CHANNEL_RE = re.compile(r"[a-z0-9_-]{1,32}")
MAX_ADDRESS_CHARS = 320
Sessions = async_sessionmaker[AsyncSession]
MAX_ID = 2**31 - 1


def _check_id(customer_id: int) -> None:
    if not 0 < customer_id <= MAX_ID:  # ids are 32-bit: a larger one names nobody
        raise NotFoundError(f"no customer {customer_id}")


async def load_scope(session: AsyncSession, customer_id: int, *, lock: bool = False) -> CustomerScope:
    """The customer's ids; with ``lock`` its row and conversations are locked."""
    _check_id(customer_id)
    stmt = select(Customer.id).where(Customer.id == customer_id)
    if await session.scalar(stmt.with_for_update() if lock else stmt) is None:
        raise NotFoundError(f"no customer {customer_id}")
    identities = tuple((await session.execute(
        select(IdentityRow.id).where(IdentityRow.customer_id == customer_id).order_by(IdentityRow.id)
    )).scalars())
    convs = select(Conversation.id).where(or_(
        Conversation.customer_id == customer_id, Conversation.identity_id.in_(identities or (-1,))
    )).order_by(Conversation.id)
    conversations = tuple((await session.execute(convs.with_for_update() if lock else convs)).scalars())
    tickets = tuple((await session.execute(
        select(Ticket.id).where(Ticket.conversation_id.in_(conversations or (-1,))).order_by(Ticket.id)
    )).scalars())
    return CustomerScope(customer_id, identities, conversations, tickets)


async def customer_detail(sessions: Sessions, customer_id: int) -> dict[str, Any]:
    """The customer, their identities and conversations (with tickets), for operators."""
    _check_id(customer_id)
    async with sessions() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id}")
        identities = (await session.execute(select(IdentityRow).where(
            IdentityRow.customer_id == customer_id).order_by(IdentityRow.id))).scalars().all()
        rows = (await session.execute(
            select(Conversation, Ticket).outerjoin(Ticket, Ticket.conversation_id == Conversation.id)
            .where(Conversation.customer_id == customer_id).order_by(Conversation.id.desc(), Ticket.id)
        )).all()
    conversations: dict[int, dict[str, Any]] = {}
    for conv, ticket in rows:
        item = conversations.setdefault(conv.id, {
            "id": conv.id, "channel": conv.channel, "state": conv.state, "lang": conv.lang,
            "created_at": conv.created_at.isoformat(), "updated_at": conv.updated_at.isoformat(),
            "tickets": [],
        })
        if ticket is not None:
            item["tickets"].append({"id": ticket.id, "number": ticket.number, "status": ticket.status,
                                    "priority": ticket.priority, "subject": ticket.subject})
    return {
        "customer": {"id": customer.id, "display_name": customer.display_name, "lang": customer.lang,
                     "created_at": customer.created_at.isoformat()},
        "identities": [{"id": i.id, "channel": i.channel, "address": i.address,
                        "display_name": i.display_name} for i in identities],
        "conversations": list(conversations.values()),
    }


async def find_customers(sessions: Sessions, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Customers whose name or an identity's address contains ``query`` (any case)."""
    needle = query.strip().lower()
    if not needle:
        return []
    by_identity = select(IdentityRow.customer_id).where(
        or_(func.lower(IdentityRow.address).contains(needle, autoescape=True),
            func.lower(IdentityRow.display_name).contains(needle, autoescape=True)))
    stmt = select(Customer).where(or_(
        func.lower(Customer.display_name).contains(needle, autoescape=True), Customer.id.in_(by_identity)
    )).order_by(Customer.id.desc()).limit(max(1, min(limit, 100)))
    async with sessions() as session:
        found = (await session.execute(stmt)).scalars().all()
    return [{"id": c.id, "display_name": c.display_name, "created_at": c.created_at.isoformat()}
            for c in found]


async def add_identity(
    sessions: Sessions, customer_id: int, channel: str, address: str, display_name: str = "",
    *, actor: Actor, clock: Clock,
) -> dict[str, Any]:
    """Link one more identity (an email address, a host-site user id) to the customer.
    ``ConflictError`` when it already belongs to another customer: merge them instead."""
    channel, address, display_name = channel.strip().lower(), address.strip(), " ".join(display_name.split())
    if not CHANNEL_RE.fullmatch(channel):
        raise InvalidInputError("channel must be 1-32 lower-case letters, digits, '_' or '-'")
    if not address or len(address) > MAX_ADDRESS_CHARS:
        raise InvalidInputError(f"address must be 1 to {MAX_ADDRESS_CHARS} characters")
    if channel == "email":
        address = address.lower()
    async with sessions() as session, session.begin():
        await load_scope(session, customer_id, lock=True)
        owner = await session.scalar(select(IdentityRow.customer_id).where(
            IdentityRow.channel == channel, IdentityRow.address == address))
        if owner == customer_id:
            raise ConflictError("this customer already has that identity")
        if owner is not None:
            raise ConflictError(f"that identity belongs to customer {owner}; merge the two customers")
        row = IdentityRow(customer_id=customer_id, channel=channel, address=address,
                          display_name=display_name[:200])
        session.add(row)
        await session.flush()
        await record(session, actor, "customer.identity_add", "customer", customer_id,
                     after={"identity_id": row.id, "channel": channel}, at=clock.now())
    return {"id": row.id, "channel": channel, "address": address, "display_name": row.display_name}


async def merge_customers(
    sessions: Sessions, target_id: int, source_id: int, *, actor: Actor, clock: Clock
) -> dict[str, Any]:
    """Move everything of ``source_id`` (identities, conversations, the rooms' data)
    to ``target_id`` and delete ``source_id``."""
    if target_id == source_id:
        raise InvalidInputError("a customer cannot be merged with itself")
    async with sessions() as session, session.begin():
        first, second = sorted((target_id, source_id))  # one lock order: no deadlock
        scopes = {cid: await load_scope(session, cid, lock=True) for cid in (first, second)}
        source, target = scopes[source_id], scopes[target_id]
        for part in reversed(parts()):  # rooms first, the core (which deletes the source) last
            await part.merge(session, source, target_id)
        moved = {"source_id": source_id, "identities": len(source.identity_ids),
                 "conversations": len(source.conversation_ids)}
        before = {"identities": len(target.identity_ids), "conversations": len(target.conversation_ids)}
        await record(session, actor, "customer.merge", "customer", target_id, before=before, after=moved,
                     at=clock.now())
        await record(session, actor, "customer.merged_into", "customer", source_id,
                     after={"target_id": target_id}, at=clock.now())
    return await customer_detail(sessions, target_id)


async def export_customer(
    sessions: Sessions, customer_id: int, *, actor: Actor, clock: Clock
) -> dict[str, Any]:
    """Everything stored about the customer, as one JSON-ready document."""
    async with sessions() as session, session.begin():
        scope = await load_scope(session, customer_id)
        rows = await linked_rows(session, scope)
        extra: dict[str, Any] = {}
        for part in parts():
            extra.update(await part.export(session, scope))
        counts = {name: len(items) for name, items in rows.items() if items}
        await record(session, actor, "customer.export", "customer", customer_id, after={"rows": counts},
                     at=clock.now())
    history = await list_entries(sessions, subject_type="customer", subject_id=customer_id, limit=500)
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": clock.now().isoformat(),
        "customer": rows.pop("customers")[0],
        "identities": rows.pop("identities"),
        "conversations": rows.pop("conversations"),
        "messages": rows.pop("messages"),
        "tickets": rows.pop("tickets"),
        "attachments": [],
    }
    document.update(extra)
    document["tables"] = {name: items for name, items in rows.items() if items}
    document["audit"] = [e.to_dict() for e in history]
    return document


async def erase_customer(
    sessions: Sessions, customer_id: int, *, actor: Actor, clock: Clock
) -> dict[str, int]:
    """Remove the customer's messages, identities, attachments and personal fields;
    ticket statistics stay, anonymous.  Returns what was removed, by table."""
    async with sessions() as session, session.begin():
        scope = await load_scope(session, customer_id, lock=True)
        counts: dict[str, int] = {}
        for part in reversed(parts()):  # rooms first: they may read messages the core deletes
            for table, n in (await part.erase(session, scope)).items():
                counts[table] = counts.get(table, 0) + n
        await record(session, actor, "customer.erase", "customer", customer_id, after={"removed": counts},
                     at=clock.now())
    return counts
