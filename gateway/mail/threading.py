"""Which conversation an inbound mail belongs to, in this order:

1. ``In-Reply-To`` or any id in ``References`` that is one of **our** Message-IDs
   (they carry an unguessable part: whoever holds one received our mail);
2. an id naming the sender's own earlier mail, our plus-address token
   (``support+TOKEN@``) or the subject token (``[#G-1042]``) — **only if the
   sender already belongs to that conversation** (its customer, or an address that
   was on To/Cc of our mail in it; the domain compared case-insensitively, the
   display name never);
3. otherwise a new conversation, carrying a "possibly the same as G-…"
   suggestion when a token or the sender pointed at one.

A conversation resolved more than ``tickets.reopen_days`` ago is not reopened: the
mail opens a new conversation that follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.tables import Conversation, IdentityRow, Ticket
from gateway.db.tables_mail import MailInbound, MailOutbound, MailParticipant, MailThread
from gateway.mail.addresses import normalise
from gateway.mail.contracts import MailFacts
from gateway.mail.service import MailService
from gateway.models import ConversationState

CHANNEL = "email"


@dataclass(frozen=True, slots=True)
class ThreadDecision:
    conversation_id: int | None  # join it; None: a new conversation
    rule: str  # our_message_id | own_earlier_mail | plus_token | subject_token | new
    candidate_id: int | None = None  # "possibly the same as" (a new conversation only)
    candidate_reason: str = ""
    follows_id: int | None = None  # the resolved conversation a new one follows


async def belongs(session: AsyncSession, conversation_id: int, sender: str) -> bool:
    """The sender is the conversation's customer or one of its participants."""
    if not sender:
        return False
    who = normalise(sender)
    stmt = (
        select(IdentityRow.address)
        .join(Conversation, Conversation.identity_id == IdentityRow.id)
        .where(Conversation.id == conversation_id)
    )
    customer = (await session.execute(stmt)).scalar_one_or_none()
    if customer is not None and normalise(customer) == who:
        return True
    found = await session.execute(
        select(MailParticipant.id).where(
            MailParticipant.conversation_id == conversation_id, MailParticipant.address == who
        )
    )
    return found.first() is not None


async def decide(
    session: AsyncSession, mail: MailService, facts: MailFacts, envelope_to: list[str], now: datetime
) -> ThreadDecision:
    sender = normalise(facts.sender.address) if facts.sender else ""
    ids = [i for i in (*facts.in_reply_to, *reversed(facts.references)) if i][:50]
    candidates: list[tuple[int, str]] = []

    # 1. one of our own Message-IDs
    if ids:
        stmt = (
            select(MailOutbound.conversation_id)
            .where(MailOutbound.rfc_message_id.in_(ids))
            .order_by(MailOutbound.id.desc())
            .limit(1)
        )
        conv_id = (await session.execute(stmt)).scalar_one_or_none()
        if conv_id is not None:
            return await _joined(session, mail, conv_id, "our_message_id", now)

    # 2. tokens and the sender's own earlier mail: only for someone who belongs
    pointers: list[tuple[int, str]] = []
    if ids:
        stmt2 = (
            select(MailInbound.conversation_id)
            .where(MailInbound.message_id.in_(ids), MailInbound.conversation_id.is_not(None))
            .order_by(MailInbound.id.desc())
        )
        for cid in (await session.execute(stmt2)).scalars():
            if cid is not None:
                pointers.append((int(cid), "own_earlier_mail"))
    tokens = list(facts.plus_tokens)
    for token in mail.own.tokens([*envelope_to, *(a.address for a in (*facts.to, *facts.cc))]):
        if token not in tokens:
            tokens.append(token)
    if tokens:
        stmt3 = select(MailThread.conversation_id).where(MailThread.token.in_(tokens[:20]))
        for cid in (await session.execute(stmt3)).scalars():
            pointers.append((int(cid), "plus_token"))
    if facts.subject_token:
        stmt4 = select(Ticket.conversation_id).where(
            func.upper(Ticket.number) == facts.subject_token.upper()
        )
        for cid in (await session.execute(stmt4)).scalars():
            pointers.append((int(cid), "subject_token"))
    for cid, rule in pointers:
        if await _is_email(session, cid) and await belongs(session, cid, sender):
            return await _joined(session, mail, cid, rule, now)
        candidates.append((cid, f"{rule.replace('_', ' ')} of a conversation the sender is not part of"))

    # 3. a new conversation, with a suggestion
    if not candidates and sender:
        latest = await _latest_open_of(session, sender)
        if latest is not None:
            candidates.append((latest, "the sender has another open conversation"))
    candidate: tuple[int, str] | None = None
    for cid, why in candidates:
        if await _is_email(session, cid):
            candidate = (cid, why)
            break
    return ThreadDecision(
        None, "new", candidate[0] if candidate else None, candidate[1] if candidate else ""
    )


async def _joined(
    session: AsyncSession, mail: MailService, conversation_id: int, rule: str, now: datetime
) -> ThreadDecision:
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        return ThreadDecision(None, "new")
    window = timedelta(days=mail.settings.tickets.reopen_days)
    if conv.state == ConversationState.RESOLVED.value and conv.updated_at < now - window:
        return ThreadDecision(None, f"{rule}_after_resolved", follows_id=conv.id)
    return ThreadDecision(conv.id, rule)


async def _is_email(session: AsyncSession, conversation_id: int) -> bool:
    channel = await session.scalar(select(Conversation.channel).where(Conversation.id == conversation_id))
    return channel == CHANNEL


async def _latest_open_of(session: AsyncSession, sender: str) -> int | None:
    stmt = (
        select(Conversation.id)
        .join(IdentityRow, Conversation.identity_id == IdentityRow.id)
        .where(
            IdentityRow.channel == CHANNEL,
            IdentityRow.address == sender,
            Conversation.state != ConversationState.RESOLVED.value,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
