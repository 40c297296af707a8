"""Loop guards and the suppression list: what no outgoing mail may do.

- Nothing goes to a suppressed address (a permanent bounce, an admin's choice).
- Nothing automatic goes to a machine (mailer-daemon, no-reply), a null sender or
  ourselves; and the bot never answers a mail that is not a customer's (the
  ingest job flags those ``auto_submitted``, so the router skips them).
- Automatic (bot) mail is capped: ``email.auto_replies_per_sender_per_day`` to one
  address in 24 h and ``email.automated_per_conversation_per_hour`` in one
  conversation, counted in the database (every process sees the same counts).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config import EmailSettings
from gateway.db.tables_mail import MailAutoSend, MailSuppression
from gateway.mail.addresses import normalise


async def suppressed(session: AsyncSession, addresses: list[str]) -> dict[str, str]:
    """The suppressed ones among ``addresses`` (normalised) with their reason."""
    wanted = [normalise(a) for a in addresses if a]
    if not wanted:
        return {}
    stmt = select(MailSuppression.address, MailSuppression.reason).where(MailSuppression.address.in_(wanted))
    return {a: r for a, r in (await session.execute(stmt)).all()}


async def suppress(session: AsyncSession, address: str, reason: str, now: datetime) -> bool:
    """Add ``address``; False if it was already suppressed."""
    addr = normalise(address)
    if not addr or await session.get(MailSuppression, addr) is not None:
        return False
    session.add(MailSuppression(address=addr, reason=reason[:2000], created_at=now))
    await session.flush()
    return True


async def unsuppress(session: AsyncSession, address: str) -> bool:
    row = await session.get(MailSuppression, normalise(address))
    if row is None:
        return False
    await session.delete(row)
    return True


async def allow_automatic(
    session: AsyncSession,
    cfg: EmailSettings,
    *,
    message_id: int,
    address: str,
    conversation_id: int,
    now: datetime,
) -> str | None:
    """Count one automatic mail, or say why it is withheld.  The same message
    asked again (a retry) is allowed without counting twice."""
    addr = normalise(address)
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":  # one decision per address at a time
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"mail-auto:{addr}"})
    if await session.get(MailAutoSend, message_id) is not None:
        return None
    per_sender = await session.scalar(
        select(func.count()).select_from(MailAutoSend).where(
            MailAutoSend.address == addr, MailAutoSend.sent_at > now - timedelta(hours=24)
        )
    )
    if (per_sender or 0) >= cfg.auto_replies_per_sender_per_day:
        return sender_capped(addr, per_sender or 0, cfg)
    per_conv = await session.scalar(
        select(func.count()).select_from(MailAutoSend).where(
            MailAutoSend.conversation_id == conversation_id, MailAutoSend.sent_at > now - timedelta(hours=1)
        )
    )
    if (per_conv or 0) >= cfg.automated_per_conversation_per_hour:
        return conversation_capped(per_conv or 0, cfg)
    session.add(
        MailAutoSend(message_id=message_id, address=addr, conversation_id=conversation_id, sent_at=now)
    )
    await session.flush()
    return None


def sender_capped(addr: str, count: int, cfg: EmailSettings) -> str:
    return (
        f"withheld by the loop guard: {addr} already got {count} automatic "
        f"mail(s) in 24 hours (limit {cfg.auto_replies_per_sender_per_day})"
    )


def conversation_capped(count: int, cfg: EmailSettings) -> str:
    return (
        f"withheld by the loop guard: {count} automatic mails in this conversation "
        f"in the last hour (limit {cfg.automated_per_conversation_per_hour})"
    )
