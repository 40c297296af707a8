"""Console accounts: create, authenticate, list, deactivate, reset a password,
change a role.  Every change is written to the audit log in its transaction."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import Actor, record
from gateway.auth.passwords import (
    MAX_PASSWORD_CHARS,
    dummy_hash,
    hash_password_async,
    verify_password_async,
)
from gateway.auth.roles import ADMIN, ROLES
from gateway.clock import Clock, SystemClock
from gateway.db.tables import SessionRow, User
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.views import UserView

__all__ = [
    "ROLES",
    "authenticate",
    "change_role",
    "create_user",
    "get_user",
    "list_users",
    "reset_password",
    "set_active",
    "user_view",
]

MIN_PASSWORD_CHARS = 8
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME_CHARS = 200


def normalise_name(name: str) -> str:
    """User names are case-insensitive: stored and looked up in lower case."""
    return name.strip().lower()


def user_view(row: User) -> UserView:
    return UserView(
        id=row.id, name=row.name, role=row.role, display_name=row.display_name, active=row.active
    )


def account_state(row: User) -> dict[str, Any]:
    """What the audit log keeps of an account (never the password hash)."""
    return {"name": row.name, "display_name": row.display_name, "role": row.role, "active": row.active}


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInputError(f"password must be at most {MAX_PASSWORD_CHARS} characters")


def validate_new_user(name: str, password: str, role: str, display_name: str) -> str:
    """Return the normalised name, or raise ``InvalidInputError`` saying what is wrong."""
    norm = normalise_name(name)
    if not NAME_RE.fullmatch(norm):
        raise InvalidInputError(
            "user name must be 1-64 characters: letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    check_role(role)
    check_password(password)
    if len(display_name) > MAX_DISPLAY_NAME_CHARS:
        raise InvalidInputError(f"display name must be at most {MAX_DISPLAY_NAME_CHARS} characters")
    return norm


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    password: str,
    role: str,
    display_name: str = "",
    *,
    clock: Clock | None = None,
    actor: Actor | None = None,
) -> UserView:
    """Create an account.  Raises ``InvalidInputError`` (bad name, role or password)
    or ``ConflictError`` (the name is taken)."""
    display_name = display_name.strip()
    norm = validate_new_user(name, password, role, display_name)
    password_hash = await hash_password_async(password)
    now = (clock or SystemClock()).now()
    async with sessions() as session:
        taken = await session.scalar(select(User.id).where(User.name == norm))
        if taken is not None:
            raise ConflictError(f"a user named {norm!r} already exists")
        row = User(
            name=norm,
            display_name=display_name or norm,
            role=role,
            password_hash=password_hash,
            active=True,
            created_at=now,
        )
        session.add(row)
        try:
            await session.flush()
            await record(session, actor or Actor.system(), "user.create", "user", row.id,
                         after=account_state(row), at=now)
            await session.commit()
        except IntegrityError as exc:  # created concurrently
            raise ConflictError(f"a user named {norm!r} already exists") from exc
        return user_view(row)


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], name: str, password: str
) -> UserView | None:
    """The user if ``name`` and ``password`` match an active account, else None.

    Runs the KDF exactly once either way, so response time does not tell whether
    the name exists.
    """
    norm = normalise_name(name)
    row: User | None = None
    if NAME_RE.fullmatch(norm):
        async with sessions() as session:
            row = await session.scalar(select(User).where(User.name == norm))
    encoded = row.password_hash if row is not None else dummy_hash()
    candidate = password if len(password) <= MAX_PASSWORD_CHARS else ""
    ok = await verify_password_async(candidate, encoded)
    if not ok or row is None or not row.active or candidate != password:
        return None
    return user_view(row)


async def list_users(sessions: async_sessionmaker[AsyncSession]) -> list[UserView]:
    """Every account, active or not, by name."""
    async with sessions() as session:
        rows = (await session.execute(select(User).order_by(User.name))).scalars().all()
    return [user_view(r) for r in rows]


async def _find(session: AsyncSession, who: int | str) -> User:
    if isinstance(who, int):
        row = await session.get(User, who) if 0 < who <= 2**31 - 1 else None
    else:
        row = await session.scalar(select(User).where(User.name == normalise_name(who)))
    if row is None:
        raise NotFoundError(f"no user {who!r}")
    return row


async def get_user(sessions: async_sessionmaker[AsyncSession], who: int | str) -> UserView:
    """An account by id or by name; ``NotFoundError`` if there is none."""
    async with sessions() as session:
        return user_view(await _find(session, who))


async def _other_active_admins(session: AsyncSession, user_id: int) -> int:
    stmt = select(func.count()).select_from(User).where(
        User.role == ADMIN, User.active.is_(True), User.id != user_id
    )
    return int(await session.scalar(stmt) or 0)


async def _change(
    sessions: async_sessionmaker[AsyncSession],
    who: int | str,
    action: str,
    changes: Mapping[str, Any],
    *,
    actor: Actor,
    clock: Clock,
    end_sessions: bool = False,
    audit_extra: Mapping[str, Any] | None = None,
) -> UserView:
    async with sessions() as session, session.begin():
        row = await _find(session, who)
        before = account_state(row)
        stays_admin = changes.get("role", row.role) == ADMIN and changes.get("active", row.active)
        if row.role == ADMIN and row.active and not stays_admin and not await _other_active_admins(
            session, row.id
        ):
            raise ConflictError(f"{row.name!r} is the last active admin; make someone else admin first")
        for key, value in changes.items():
            setattr(row, key, value)
        if end_sessions:
            await session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
        after = {**account_state(row), **(audit_extra or {})}
        await record(session, actor, action, "user", row.id, before=before, after=after, at=clock.now())
        return user_view(row)


async def set_active(
    sessions: async_sessionmaker[AsyncSession],
    who: int | str,
    active: bool,
    *,
    actor: Actor,
    clock: Clock | None = None,
) -> UserView:
    """Deactivate (logged out at once, tokens stop working) or reactivate an account."""
    action = "user.activate" if active else "user.deactivate"
    return await _change(sessions, who, action, {"active": active}, actor=actor,
                         clock=clock or SystemClock(), end_sessions=not active)


async def change_role(
    sessions: async_sessionmaker[AsyncSession],
    who: int | str,
    role: str,
    *,
    actor: Actor,
    clock: Clock | None = None,
) -> UserView:
    """Give an account another role; it applies to its next request."""
    check_role(role)
    return await _change(sessions, who, "user.role", {"role": role}, actor=actor,
                         clock=clock or SystemClock())


async def reset_password(
    sessions: async_sessionmaker[AsyncSession],
    who: int | str,
    password: str,
    *,
    actor: Actor,
    clock: Clock | None = None,
) -> UserView:
    """Set a new password; the account's open sessions end."""
    check_password(password)
    encoded = await hash_password_async(password)
    return await _change(sessions, who, "user.password_reset", {"password_hash": encoded}, actor=actor,
                         clock=clock or SystemClock(), end_sessions=True,
                         audit_extra={"sessions_ended": True})
