"""Console accounts: create, authenticate."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth.passwords import (
    MAX_PASSWORD_CHARS,
    dummy_hash,
    hash_password_async,
    verify_password_async,
)
from gateway.clock import Clock, SystemClock
from gateway.db.tables import User
from gateway.errors import ConflictError, InvalidInputError
from gateway.views import UserView

ROLES = ("operator", "admin")
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


def validate_new_user(name: str, password: str, role: str, display_name: str) -> str:
    """Return the normalised name, or raise ``InvalidInputError`` saying what is wrong."""
    norm = normalise_name(name)
    if not NAME_RE.fullmatch(norm):
        raise InvalidInputError(
            "user name must be 1-64 characters: letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInputError(f"password must be at most {MAX_PASSWORD_CHARS} characters")
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
