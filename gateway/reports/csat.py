"""Satisfaction surveys (CSAT): after a ticket is resolved, the customer is asked for
a rating 1-5 and an optional comment, on their own channel.

- **When.** :func:`on_ticket_change` is a ticket-history listener
  (:func:`gateway.tickets.history.add_change_listener`): a change to ``resolved``
  (not a hand-back to the bot) enqueues the durable job :data:`JOB_KIND`, so the
  question follows the "your ticket is resolved" message, in its own transaction, and
  survives a crash.  :func:`ask_job` (registered on the job runner) creates the survey
  and sends the message, once per ticket (a reopened ticket resolved again is not
  asked twice).
- **The link.** ``<server.public_url>/csat/<token>``: 32 random bytes, URL-safe; only
  its SHA-256 is stored, so a database dump holds no working link.  It expires after
  ``csat.expire_days``; one answer per survey.
- **Answers** (:func:`answer`): a wrong token, a used one or an expired one is a
  :class:`SurveyError` with a reason the page shows (404 / 409 / 410).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.db.tables import Conversation, Ticket
from gateway.db.tables_csat import CsatSurvey
from gateway.flow.job_queue import JobView
from gateway.flow.jobs import PermanentJobError
from gateway.flow.store import SqlStore
from gateway.flow.tx import Tx
from gateway.models import AuthorKind
from gateway.tickets.history import TicketChange, add_change_listener, remove_change_listener

JOB_KIND = "csat_ask"
TOKEN_BYTES = 32
MAX_COMMENT = 2000
HANDED_BACK = "handed back"  # SqlOperatorService's reason when the bot takes the conversation back

ASK = {
    "en": "How satisfied are you with how we handled ticket {number}? "
    "Rate us from 1 to 5 (and tell us why, if you like): {url}",
    "fr": "Êtes-vous satisfait du traitement de votre ticket {number} ? "
    "Donnez-nous une note de 1 à 5 (et un commentaire si vous le souhaitez) : {url}",
}


class SurveyError(Exception):
    """A survey link that cannot be answered; ``status`` is the HTTP status to show."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True, slots=True)
class SurveyView:
    ticket_number: str
    lang: str
    expires_at: datetime
    answered_at: datetime | None
    rating: int | None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def survey_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/csat/{token}"


def listening_ctx() -> Callable[[Any], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry: :func:`on_ticket_change` listens while the app runs."""

    async def ctx(app: Any) -> AsyncIterator[None]:
        add_change_listener(on_ticket_change)
        try:
            yield
        finally:
            remove_change_listener(on_ticket_change)

    return ctx


async def on_ticket_change(tx: Tx, change: TicketChange) -> None:
    """A ticket-history listener: a ticket just resolved gets its survey job."""
    if not tx.settings.csat.enabled or change.kind != "status":
        return
    if change.after.get("status") != "resolved" or change.before.get("status") in ("resolved", "closed"):
        return
    if change.reason == HANDED_BACK:
        return
    existing = await tx.session.scalar(select(CsatSurvey.id).where(CsatSurvey.ticket_id == change.ticket_id))
    if existing is None:
        tx.enqueue(JOB_KIND, {"ticket_id": change.ticket_id}, delay=1.0)


async def create_survey(tx: Tx, ticket: Ticket, conv: Conversation) -> str | None:
    """Create the ticket's survey and send the question; returns the token, or None if
    the ticket already has a survey.  The caller holds the conversation's lock."""
    if await tx.session.scalar(select(CsatSurvey.id).where(CsatSurvey.ticket_id == ticket.id)) is not None:
        return None
    now = tx.now()
    token = new_token()
    lang = (conv.lang or "en")[:2]
    tx.session.add(CsatSurvey(
        ticket_id=ticket.id,
        conversation_id=conv.id,
        channel=conv.channel,
        token_hash=token_hash(token),
        lang=lang,
        sent_at=now,
        expires_at=now + timedelta(days=tx.settings.csat.expire_days),
        comment="",
    ))
    await tx.session.flush()
    url = survey_url(tx.settings.base_url, token)
    text = ASK.get(lang, ASK["en"]).format(number=ticket.number or ticket.id, url=url)
    await tx.add_message(conv, direction="out", author=AuthorKind.SYSTEM, text=text,
                         meta={"csat": {"url": url, "scale": [1, 2, 3, 4, 5]}})
    metrics.CSAT_SURVEYS_SENT.labels(conv.channel).inc()
    return token


def make_ask_job(store: SqlStore) -> Callable[[JobView], Awaitable[None]]:
    """The job handler that asks one resolved ticket's customer."""

    async def ask_job(job: JobView) -> None:
        ticket_id = job.payload.get("ticket_id")
        if not isinstance(ticket_id, int):
            raise PermanentJobError("a csat job needs an integer ticket_id")
        try:
            async with store.tx() as tx:
                ticket = await tx.session.get(Ticket, ticket_id)
                if ticket is not None:
                    conv = await tx.lock_conversation(ticket.conversation_id)
                    await tx.session.refresh(ticket)
                    if ticket.status in ("resolved", "closed"):  # still resolved: ask
                        await create_survey(tx, ticket, conv)
                await tx.complete_job(job)
        except IntegrityError:  # another worker created it first: done
            async with store.tx() as tx:
                await tx.complete_job(job)

    return ask_job


async def _find(session: AsyncSession, token: str) -> CsatSurvey:
    if not token or len(token) > 200:
        raise SurveyError(404, "unknown", "This survey link is not valid.")
    digest = token_hash(token)
    survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.token_hash == digest))
    if survey is None or not hmac.compare_digest(survey.token_hash, digest):
        raise SurveyError(404, "unknown", "This survey link is not valid.")
    return survey


async def _view(session: AsyncSession, survey: CsatSurvey) -> SurveyView:
    number = await session.scalar(select(Ticket.number).where(Ticket.id == survey.ticket_id))
    return SurveyView(number or str(survey.ticket_id), survey.lang, survey.expires_at, survey.answered_at,
                      survey.rating)


async def lookup(store: SqlStore, token: str) -> SurveyView:
    """The survey behind ``token``, for the page; raises :class:`SurveyError`."""
    async with store.read() as tx:
        survey = await _find(tx.session, token)
        if survey.answered_at is not None:
            raise SurveyError(409, "answered", "You have already answered this survey. Thank you!")
        if tx.now() >= survey.expires_at:
            raise SurveyError(410, "expired", "This survey link has expired.")
        return await _view(tx.session, survey)


def check_answer(rating: object, comment: object) -> tuple[int, str]:
    if isinstance(rating, str) and rating.strip().isdecimal():
        rating = int(rating.strip())
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise SurveyError(400, "invalid_rating", "Choose a rating from 1 to 5.")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise SurveyError(400, "invalid_comment", "The comment must be text.")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise SurveyError(400, "comment_too_long", f"The comment is longer than {MAX_COMMENT} characters.")
    return rating, comment


async def answer(store: SqlStore, token: str, rating: object, comment: object = "") -> SurveyView:
    """Store the one answer of the survey behind ``token``."""
    value, text = check_answer(rating, comment)
    async with store.tx() as tx:
        survey = await _find(tx.session, token)
        await tx.lock_conversation(survey.conversation_id)  # one writer: a double submit is one answer
        await tx.session.refresh(survey)
        if survey.answered_at is not None:
            raise SurveyError(409, "answered", "You have already answered this survey. Thank you!")
        if tx.now() >= survey.expires_at:
            raise SurveyError(410, "expired", "This survey link has expired.")
        survey.rating, survey.comment, survey.answered_at = value, text, tx.now()
        view = await _view(tx.session, survey)
    metrics.CSAT_ANSWERS.labels(str(value)).inc()
    return view
