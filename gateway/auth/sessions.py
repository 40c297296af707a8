"""Console login sessions.

The cookie holds a random secret; the store keeps only its SHA-256, so a leaked
database does not yield usable cookies.  Each session has its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth.users import user_view
from gateway.clock import Clock
from gateway.db.tables import SessionRow, User
from gateway.views import UserView

MAX_COOKIE_CHARS = 128


def session_key(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


async def create_session(
    sessions: async_sessionmaker[AsyncSession], user_id: int, clock: Clock, hours: float
) -> tuple[str, str]:
    """Open a session for ``user_id``; returns ``(cookie_value, csrf_token)``."""
    cookie_value = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    now = clock.now()
    async with sessions() as session:
        session.add(
            SessionRow(
                id=session_key(cookie_value),
                user_id=user_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
        await session.commit()
    return cookie_value, csrf_token


async def load_session(
    sessions: async_sessionmaker[AsyncSession], cookie_value: str, clock: Clock
) -> tuple[UserView, str] | None:
    """The session's user and CSRF token; None if unknown, expired (the row is then
    deleted) or the account is disabled."""
    if not cookie_value or len(cookie_value) > MAX_COOKIE_CHARS:
        return None
    key = session_key(cookie_value)
    async with sessions() as session:
        found = (
            await session.execute(
                select(SessionRow, User).join(User, User.id == SessionRow.user_id).where(
                    SessionRow.id == key
                )
            )
        ).first()
        if found is None:
            return None
        row, user = found
        if row.expires_at <= clock.now() or not user.active:
            await session.execute(delete(SessionRow).where(SessionRow.id == key))
            await session.commit()
            return None
        return user_view(user), row.csrf_token


async def delete_session(sessions: async_sessionmaker[AsyncSession], cookie_value: str) -> None:
    """Log out: forget the session (no error if it does not exist)."""
    async with sessions() as session:
        await session.execute(delete(SessionRow).where(SessionRow.id == session_key(cookie_value)))
        await session.commit()


async def purge_expired_sessions(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Delete every expired session; returns how many."""
    async with sessions() as session:
        stmt = delete(SessionRow).where(SessionRow.expires_at <= clock.now())
        result = await session.execute(stmt)
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
