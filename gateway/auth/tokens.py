"""Scoped API tokens: created by an admin, sent as ``Authorization: Bearer <token>``.

A token is ``gch_`` + 43 random URL-safe characters (256 bits).  It is shown once;
the database keeps its SHA-256 (a fast hash is enough for a random secret of that
size, as GitHub and Stripe do) and its first characters to recognise it.  A token
acts for one account (``user_id``): a request may do what the token's scopes allow
*and* what that account's current role allows, so demoting or deactivating the
account narrows or stops its tokens at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import Actor, record
from gateway.auth.roles import AUTHENTICATED, SCOPES, grants
from gateway.auth.users import user_view
from gateway.clock import Clock
from gateway.db.engine import SQLITE_BEGIN
from gateway.db.tables import User
from gateway.db.tables_access import ApiToken
from gateway.errors import ConflictError, InvalidInputError, NotFoundError
from gateway.views import UserView

PREFIX = "gch_"
TOKEN_RE = re.compile(r"gch_[A-Za-z0-9_-]{43}")
SHOWN_CHARS = 10
MAX_NAME_CHARS = 100
MAX_ID = 2**31 - 1  # ids are 32-bit: a larger one names nobody
LAST_USED_EVERY = timedelta(minutes=1)  # how often a busy token's last_used_at is written


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    prefix: str
    user_id: int
    user_name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: int | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "name": self.name, "prefix": self.prefix, "user_id": self.user_id,
            "user_name": self.user_name, "scopes": list(self.scopes),
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "expires_at": iso(self.expires_at), "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


def _view(row: ApiToken, user_name: str) -> TokenView:
    return TokenView(
        id=row.id, name=row.name, prefix=row.prefix, user_id=row.user_id, user_name=user_name,
        scopes=tuple(row.scopes or ()), created_at=row.created_at, created_by=row.created_by,
        expires_at=row.expires_at, last_used_at=row.last_used_at, revoked_at=row.revoked_at,
    )


def check_scopes(scopes: list[str] | tuple[str, ...], role: str) -> tuple[str, ...]:
    """The scopes, deduplicated and sorted; ``InvalidInputError`` for an unknown one
    or one the owner's role does not have."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInputError(f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    beyond = [s for s in scopes if s not in grants(role)]
    if beyond:
        raise InvalidInputError(f"a {role}'s token cannot have scope {beyond[0]!r}")
    if not scopes:
        raise InvalidInputError("give the token at least one scope")
    return tuple(sorted(set(scopes)))


async def create_token(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    user: int | str,
    scopes: list[str] | tuple[str, ...],
    *,
    actor: Actor,
    clock: Clock,
    expires_at: datetime | None = None,
) -> tuple[str, TokenView]:
    """Create a token acting for ``user`` (id or name); returns ``(token, view)``.
    The token itself is not stored anywhere: show it once."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"the token needs a name of 1 to {MAX_NAME_CHARS} characters")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInputError("the expiry date is in the past")
    token = PREFIX + secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        if isinstance(user, int):
            owner = await session.get(User, user) if 0 < user <= MAX_ID else None
        else:
            owner = await session.scalar(select(User).where(User.name == user.strip().lower()))
        if owner is None:
            raise NotFoundError(f"no user {user!r}")
        if not owner.active:
            raise ConflictError(f"{owner.name!r} is deactivated")
        row = ApiToken(
            name=name, token_hash=token_hash(token), prefix=token[:SHOWN_CHARS], user_id=owner.id,
            scopes=list(check_scopes(scopes, owner.role)), created_by=actor.id, created_at=now,
            expires_at=expires_at,
        )
        session.add(row)
        await session.flush()
        view = _view(row, owner.name)
        after = {k: v for k, v in view.to_dict().items() if k not in ("last_used_at", "revoked_at")}
        await record(session, actor, "token.create", "api_token", row.id, after=after, at=now)
    return token, view


async def list_tokens(sessions: async_sessionmaker[AsyncSession]) -> list[TokenView]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
            )
        ).all()
    return [_view(row, name) for row, name in rows]


async def revoke_token(
    sessions: async_sessionmaker[AsyncSession], token_id: int, *, actor: Actor, clock: Clock
) -> TokenView:
    """Revoke at once (idempotent: revoking a revoked token changes nothing)."""
    async with sessions() as session, session.begin():
        found = (
            await session.execute(
                select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).where(
                    ApiToken.id == token_id
                )
            )
        ).first()
        if found is None:
            raise NotFoundError(f"no API token {token_id}")
        row, owner = found
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            await record(session, actor, "token.revoke", "api_token", row.id,
                         before={"revoked_at": None}, after={"revoked_at": row.revoked_at},
                         at=clock.now())
        return _view(row, owner)


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """A valid token's identity: the account it acts for, and what it may do."""

    user: UserView
    token: TokenView
    permissions: frozenset[str]


async def authenticate_token(
    sessions: async_sessionmaker[AsyncSession], token: str, clock: Clock
) -> TokenAuth | None:
    """The token's identity; None if it is malformed, unknown, revoked, expired, or its
    account is deactivated."""
    if not TOKEN_RE.fullmatch(token):
        return None
    now = clock.now()
    async with sessions() as session:
        await session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})  # a read
        found = (
            await session.execute(
                select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(
                    ApiToken.token_hash == token_hash(token)
                )
            )
        ).first()
        if found is None:
            return None
        row, owner = found
        view = _view(row, owner.name)
        if not view.active(now) or not owner.active:
            return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        async with sessions() as session, session.begin():
            await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    permissions = (frozenset(view.scopes) | {AUTHENTICATED}) & grants(owner.role)
    return TokenAuth(user_view(owner), view, permissions)
