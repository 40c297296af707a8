"""The audit log: who changed what, when, with the state before and after.

:func:`record` adds an entry to the session of the change it records, so both
commit (or roll back) together.  Services call it inside their own transaction::

    async with store.tx() as tx:
        ...change the ticket...
        await audit.record(tx.session, actor, "ticket.assign", "ticket", ticket.id,
                           before={"assignee_id": 3}, after={"assignee_id": 5}, at=tx.now())

Entries never hold what a customer wrote (no message text): the log outlives a
GDPR erasure and must not keep what the erasure removed.  Identify with ids.
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.tables_access import AuditEntry
from gateway.views import UserView

MAX_LIST = 500


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: a person (``user``), a program with an API token acting
    for a person (``token``), an admin at the command line (``cli``), the gateway
    itself (``system``) or someone not logged in (``anonymous``, e.g. a failed login)."""

    kind: str
    id: int | None = None
    name: str = ""
    token_id: int | None = None
    remote: str = ""

    @classmethod
    def user(cls, user: UserView, *, remote: str = "", token_id: int | None = None) -> Actor:
        return cls("token" if token_id is not None else "user", user.id, user.name, token_id, remote)

    @classmethod
    def cli(cls, name: str = "") -> Actor:
        import getpass

        try:
            who = name or getpass.getuser()
        except (KeyError, OSError):  # no user name in this environment
            who = name or "cli"
        return cls("cli", None, who)

    @classmethod
    def system(cls, name: str = "guichet") -> Actor:
        return cls("system", None, name)


_CURRENT: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("guichet_actor", default=None)


def set_current_actor(actor: Actor | None) -> contextvars.Token[Actor | None]:
    """Set by the web layer for the request being handled."""
    return _CURRENT.set(actor)


def reset_current_actor(token: contextvars.Token[Actor | None]) -> None:
    _CURRENT.reset(token)


def current_actor(default: Actor | None = None) -> Actor:
    """The actor of the request being handled (its token and address included), else
    ``default``, else the system."""
    return _CURRENT.get() or default or Actor.system()


def actor_for(user: UserView) -> Actor:
    """``user`` as an actor, with the request's token and address when the request
    is this user's own."""
    now = _CURRENT.get()
    if now is not None and now.id == user.id:
        return now
    return Actor.user(user)


def jsonable(value: Any) -> Any:
    """``value`` made JSON-serialisable: datetimes as ISO text, enums by value,
    sets and tuples as lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str = "",
    subject_id: object = "",
    *,
    at: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to ``session`` (committed with the caller's transaction)."""
    entry = AuditEntry(
        at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name[:200],
        token_id=actor.token_id,
        action=action[:64],
        subject_type=subject_type[:32],
        subject_id=str(subject_id)[:64],
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        remote=actor.remote[:64],
    )
    session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    token_id: int | None
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    remote: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "actor": {
                "kind": self.actor_kind, "id": self.actor_id, "name": self.actor_name,
                "token_id": self.token_id,
            },
            "action": self.action, "subject_type": self.subject_type, "subject_id": self.subject_id,
            "before": self.before, "after": self.after, "remote": self.remote,
        }


def audit_view(row: AuditEntry) -> AuditView:
    return AuditView(
        id=row.id, at=row.at, actor_kind=row.actor_kind, actor_id=row.actor_id,
        actor_name=row.actor_name, token_id=row.token_id, action=row.action,
        subject_type=row.subject_type, subject_id=row.subject_id, before=row.before,
        after=row.after, remote=row.remote,
    )


async def list_entries(
    sessions: async_sessionmaker[AsyncSession],
    *,
    subject_type: str | None = None,
    subject_id: object | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditView]:
    """Entries newest first; ``action`` ending in ``.`` matches a prefix ("user.")."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_LIST)))
    if subject_type is not None:
        stmt = stmt.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        stmt = stmt.where(AuditEntry.subject_id == str(subject_id))
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        if action.endswith("."):
            stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    async with sessions() as session:
        rows = (await session.execute(stmt)).scalars().all()
    return [audit_view(r) for r in rows]
