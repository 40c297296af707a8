"""Every row linked to a customer, found by following the schema's foreign keys.

Starting from the customer's own rows (customer, identities, conversations, their
messages and tickets), any table with a foreign key into rows already found is read
for the rows that point there, until nothing new turns up; rows those point to in
turn (a raw mail's blob) are read too.  A table added later is exported without
code.  Staff tables (users, sessions, tokens), the audit log and the job queue are
not customer data and are left out.  Binary columns are given as their size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import jsonable
from gateway.customers.parts import CustomerScope
from gateway.db import schema

CORE_TABLES = ("customers", "identities", "conversations", "messages", "tickets")
NOT_CUSTOMER_DATA = frozenset({"users", "sessions", "api_tokens", "audit_log", "jobs"})
CHUNK = 500
MAX_PASSES = 6

Rows = dict[str, list[dict[str, Any]]]


def row_dict(table: Table, row: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column in table.columns:
        value = row._mapping[column]
        data[column.name] = {"bytes": len(value)} if isinstance(value, bytes | bytearray | memoryview) \
            else jsonable(value)
    return data


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


async def _select_in(
    session: AsyncSession, table: Table, conditions: list[tuple[Any, list[Any]]]
) -> list[Any]:
    """Rows of ``table`` where any ``column IN values`` holds (values read in chunks)."""
    found: dict[Any, Any] = {}
    pk = list(table.primary_key.columns)
    for column, values in conditions:
        for chunk in _chunks(sorted(set(values), key=str)):
            stmt = select(table).where(column.in_(chunk))
            for row in (await session.execute(stmt)).all():
                key = tuple(row._mapping[c] for c in pk) if pk else tuple(row)
                found[key] = row
    return list(found.values())


def _values(rows: Rows, table: str, column: str) -> list[Any]:
    return [r[column] for r in rows.get(table, []) if r.get(column) is not None]


async def core_rows(session: AsyncSession, scope: CustomerScope) -> Rows:
    tables = schema.Base.metadata.tables
    found: Rows = {}
    seeds = {
        "customers": ("id", [scope.customer_id]),
        "identities": ("id", list(scope.identity_ids)),
        "conversations": ("id", list(scope.conversation_ids)),
        "messages": ("conversation_id", list(scope.conversation_ids)),
        "tickets": ("id", list(scope.ticket_ids)),
    }
    for name, (column, values) in seeds.items():
        table = tables[name]
        rows = await _select_in(session, table, [(table.c[column], values)]) if values else []
        found[name] = sorted((row_dict(table, r) for r in rows), key=lambda d: d["id"])
    return found


async def linked_rows(session: AsyncSession, scope: CustomerScope) -> Rows:
    """The core tables' rows and every other table's linked rows, by table name."""
    found = await core_rows(session, scope)
    metadata = schema.Base.metadata
    candidates = [t for t in metadata.sorted_tables if t.name not in NOT_CUSTOMER_DATA
                  and t.name not in CORE_TABLES]
    for _ in range(MAX_PASSES):
        changed = False
        for table in candidates:
            conditions: list[tuple[Any, list[Any]]] = []
            for fk in table.foreign_keys:  # rows pointing into what was found
                values = _values(found, fk.column.table.name, fk.column.name)
                if values:
                    conditions.append((fk.parent, values))
            for other in candidates:  # rows that found rows point to (a raw mail's blob)
                for fk in other.foreign_keys:
                    if fk.column.table is table and other.name in found:
                        values = _values(found, other.name, fk.parent.name)
                        if values:
                            conditions.append((fk.column, values))
            if not conditions:
                continue
            rows = [row_dict(table, r) for r in await _select_in(session, table, conditions)]
            if len(rows) != len(found.get(table.name, [])):
                found[table.name] = rows
                changed = True
        if not changed:
            break
    return found
