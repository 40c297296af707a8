"""Bytes by reference: raw messages and attachments as content-addressed rows."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables_mail import MailBlob

REF_PREFIX = "mail-blob:"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ref_of(sha256: str) -> str:
    """The storage reference an :class:`gateway.models.Attachment` carries."""
    return REF_PREFIX + sha256


async def put(session: AsyncSession, data: bytes, now: datetime) -> str:
    """Store ``data`` once (idempotent, safe against a concurrent writer of the
    same bytes); returns its SHA-256."""
    sha = digest(data)
    values = {"sha256": sha, "size": len(data), "content": data, "created_at": now}
    bind = session.bind
    dialect: Any = postgresql if bind is not None and bind.dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(MailBlob).values(**values).on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha


async def get(session: AsyncSession, sha256: str) -> bytes | None:
    row = (await session.execute(select(MailBlob.content).where(MailBlob.sha256 == sha256))).first()
    return bytes(row[0]) if row else None
