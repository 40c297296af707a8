"""Articles drafted from resolved tickets, approved by an admin into the KB.

A draft takes the customer's questions as question variants and the operator's
replies as the answer; the title starts as the ticket's subject and can be
edited.  Approving writes the article through the KB admin port (engineer B's
``gateway.kb.admin.KBAdmin``: ``save_article`` then ``reindex``) so the bot
answers that question from the next index version on.  Only admins approve or
reject.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.db.tables import ArticleDraft, Conversation, Message, Ticket
from gateway.errors import ConflictError, ForbiddenError, GuichetError, InvalidInputError, NotFoundError
from gateway.flow.tx import message_view
from gateway.kb.assist import customer_questions
from gateway.kb.gaps import ApprovedTopic
from gateway.language import fold
from gateway.views import UserView

MAX_TITLE = 200  # as KBAdmin.save_article accepts
MAX_BODY = 20_000
MAX_QUESTIONS = 20


class DraftError(GuichetError):
    """The article could not be written or the index not rebuilt."""


class KBAdminPort(Protocol):
    """What approval needs of the KB admin service (``gateway.kb.admin.KBAdmin``)."""

    def save_article(self, article_id: str, title: str, lang: str, tags: Sequence[str], body: str) -> Any: ...

    async def reindex(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class DraftView:
    id: int
    status: str
    title: str
    body: str
    questions: tuple[str, ...]
    lang: str
    ticket_id: int | None
    conversation_id: int | None
    article_id: str | None
    index_version: str | None
    created_by: int | None
    approved_by: int | None
    created_at: datetime
    reviewed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "title": self.title,
            "body": self.body,
            "questions": list(self.questions),
            "lang": self.lang,
            "ticket_id": self.ticket_id,
            "conversation_id": self.conversation_id,
            "article_id": self.article_id,
            "index_version": self.index_version,
            "created_by": self.created_by,
            "approved_by": self.approved_by,
            "created_at": self.created_at.isoformat(),
            "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
        }


def _view(row: ArticleDraft) -> DraftView:
    return DraftView(
        row.id, row.status, row.title, row.body, tuple(str(q) for q in row.questions or ()), row.lang,
        row.ticket_id, row.conversation_id, row.article_id, row.index_version, row.created_by,
        row.approved_by, row.created_at, row.reviewed_at,
    )


def article_id_for(title: str, draft_id: int) -> str:
    """A readable, unique article id: the title's words plus the draft number."""
    slug = "-".join(fold(title).split())[:60].strip("-") or "article"
    return f"{slug}-d{draft_id}"


def _clean_questions(questions: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for q in questions:
        q = " ".join(str(q).split())[:500]
        if q and q not in seen:
            seen.append(q)
    return seen[:MAX_QUESTIONS]


class DraftService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def create_from_ticket(self, ticket_id: int, user: UserView, title: str | None = None) -> DraftView:
        """A draft from the ticket's conversation; the ticket's open draft if it has one."""
        async with self.sessions() as session, session.begin():
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFoundError(f"ticket {ticket_id} not found")
            open_draft = select(ArticleDraft).where(
                ArticleDraft.ticket_id == ticket_id, ArticleDraft.status == "draft"
            )
            existing = (await session.execute(open_draft)).scalar_one_or_none()
            if existing is not None:
                return _view(existing)
            conv = await session.get(Conversation, ticket.conversation_id)
            rows = list((await session.execute(
                select(Message).where(Message.conversation_id == ticket.conversation_id).order_by(Message.id)
            )).scalars())
            messages = [message_view(m) for m in rows]
            replies = [m.text.strip() for m in messages
                       if m.author.value == "operator" and m.kind.value == "message" and m.text.strip()]
            if not replies:
                raise InvalidInputError("this ticket has no reply from an operator to draft an article from")
            questions = _clean_questions(customer_questions(messages, limit=MAX_QUESTIONS))
            now = self.clock.now()
            row = ArticleDraft(
                status="draft",
                title=(title or "").strip()[:MAX_TITLE] or ticket.subject or next(iter(questions), ""),
                body="\n\n".join(replies)[:MAX_BODY],
                questions=questions,
                lang=(conv.lang if conv else "") or "",
                tags=[],
                ticket_id=ticket.id,
                conversation_id=ticket.conversation_id,
                created_by=user.id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return _view(row)

    async def list_drafts(self, statuses: Sequence[str] = ("draft",)) -> list[DraftView]:
        async with self.sessions() as session:
            stmt = select(ArticleDraft).where(ArticleDraft.status.in_(list(statuses)))
            rows = (await session.execute(stmt.order_by(ArticleDraft.id.desc()))).scalars()
            return [_view(r) for r in rows]

    async def get(self, draft_id: int) -> DraftView:
        async with self.sessions() as session:
            row = await session.get(ArticleDraft, draft_id)
            if row is None:
                raise NotFoundError(f"draft {draft_id} not found")
            return _view(row)

    async def _review(self, draft_id: int, user: UserView, **changes: Any) -> DraftView:
        if user.role != "admin":
            raise ForbiddenError("only an admin can approve or reject a draft")
        async with self.sessions() as session, session.begin():
            row = await session.get(ArticleDraft, draft_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"draft {draft_id} not found")
            if row.status != "draft":
                raise ConflictError(f"draft {draft_id} is already {row.status}")
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = self.clock.now()
            return _view(row)

    async def reject(self, draft_id: int, user: UserView) -> DraftView:
        return await self._review(draft_id, user, status="rejected", approved_by=user.id,
                                  reviewed_at=self.clock.now())

    async def approve(
        self,
        draft_id: int,
        user: UserView,
        kb_admin: KBAdminPort,
        *,
        title: str | None = None,
        body: str | None = None,
        questions: Sequence[str] | None = None,
    ) -> DraftView:
        """Save the (edited) draft as an article, re-index, mark it approved."""
        edits: dict[str, Any] = {}
        if title is not None:
            edits["title"] = title.strip()[:MAX_TITLE]
        if body is not None:
            edits["body"] = body.strip()[:MAX_BODY]
        if questions is not None:
            edits["questions"] = _clean_questions(questions)
        draft = await self._review(draft_id, user, **edits)  # checks role and status, saves edits
        if not draft.title or not draft.body:
            raise InvalidInputError("a draft needs a title and an answer before approval")
        article_id = article_id_for(draft.title, draft.id)
        try:
            await _save(kb_admin, article_id, draft)
            report = await kb_admin.reindex()
        except GuichetError:
            raise
        except Exception as exc:  # the KB directory or the index build failed
            raise DraftError(f"the article could not be published: {exc}") from exc
        version = str(getattr(report, "version", "") or "") or None
        return await self._review(draft_id, user, status="approved", article_id=article_id,
                                  index_version=version, approved_by=user.id,
                                  reviewed_at=self.clock.now())


async def approved_topics(sessions: async_sessionmaker[AsyncSession]) -> list[ApprovedTopic]:
    """Every approved draft as a topic for the gaps report's before/after split."""
    async with sessions() as session:
        stmt = select(ArticleDraft).where(ArticleDraft.status == "approved").order_by(ArticleDraft.id)
        rows = list((await session.execute(stmt)).scalars())
    return [
        ApprovedTopic(r.id, r.title, tuple(str(q) for q in r.questions or ()) or (r.title,), r.article_id,
                      r.reviewed_at or r.updated_at)
        for r in rows
    ]


async def _save(kb_admin: KBAdminPort, article_id: str, draft: DraftView) -> None:
    """``save_article`` with the question variants when the KB admin accepts them."""
    kwargs: dict[str, Any] = {}
    params = inspect.signature(kb_admin.save_article).parameters
    if "questions" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        kwargs["questions"] = list(draft.questions)
    save = functools.partial(kb_admin.save_article, article_id, draft.title, draft.lang, ["from-ticket"],
                             draft.body, **kwargs)
    if inspect.iscoroutinefunction(kb_admin.save_article):
        await save()
    else:
        await asyncio.to_thread(save)  # file I/O and a KB parse: off the event loop

