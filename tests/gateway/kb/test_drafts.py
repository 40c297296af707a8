"""Drafts from resolved tickets on the real store: what goes in a draft, who may
approve, approval writes the article and re-indexes, and the gaps report shows
the topic's containment before and after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from gateway.auth import create_user
from gateway.clock import SystemClock
from gateway.errors import ConflictError, ForbiddenError, InvalidInputError
from gateway.kb.drafts import DraftError, DraftService
from gateway.kb.gaps_report import build_gaps
from gateway.kb.vectors import TfidfVectorizer
from gateway.views import UserView
from tests.gateway.conftest import Core


@dataclass
class FakeKBAdmin:
    """Engineer B's KBAdmin as the drafts see it: records articles and re-indexes."""

    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    reindexed: int = 0
    fail: Exception | None = None
    on_reindex: Any = None

    def save_article(self, article_id: str, title: str, lang: str, tags: Any, body: str,
                     questions: Any = ()) -> None:
        if self.fail:
            raise self.fail
        self.articles[article_id] = {"title": title, "lang": lang, "tags": list(tags), "body": body,
                                     "questions": list(questions)}

    async def reindex(self) -> Any:
        self.reindexed += 1
        if self.on_reindex:
            self.on_reindex(self)

        @dataclass
        class Report:
            version: str

        return Report(f"v{self.reindexed}")


async def resolved_ticket(core: Core, operator: UserView, user: str = "bob") -> int:
    """A customer's unanswered question, handed off, answered by the operator, resolved."""
    await core.channel.receive("Where is my invoice for March?", user=user)
    await core.drain()
    await core.channel.receive("Thanks", user=user)
    await core.drain()
    await core.channel.receive("Can I get a copy of my invoice?", user=user)
    await core.drain()
    [ticket] = [t for t in await core.operators.list_tickets() if t.customer_name == user.title()]
    await core.operators.reply(ticket.conversation_id, operator,
                               "Invoices are under Account > Billing > Invoices; download the PDF.")
    await core.operators.resolve(ticket.id, operator)
    return ticket.id


@pytest.fixture
async def admin(core: Core) -> UserView:
    return await create_user(core.store.sessions, "ada", "correct horse battery", "admin", "Ada")


def service(core: Core) -> DraftService:
    return DraftService(core.store.sessions, SystemClock())


async def test_draft_takes_the_questions_and_the_operators_answer(core: Core, operator: UserView) -> None:
    ticket_id = await resolved_ticket(core, operator)
    draft = await service(core).create_from_ticket(ticket_id, operator)
    assert draft.status == "draft" and draft.ticket_id == ticket_id and draft.created_by == operator.id
    assert draft.title == "Where is my invoice for March?"
    assert draft.questions == ("Where is my invoice for March?", "Can I get a copy of my invoice?")
    assert draft.body.startswith("Invoices are under Account > Billing")
    again = await service(core).create_from_ticket(ticket_id, operator, title="Other")
    assert again.id == draft.id  # one open draft per ticket


async def test_a_ticket_without_an_operator_reply_cannot_be_drafted(core: Core, operator: UserView) -> None:
    await core.channel.receive("agent please", user="carl")
    await core.drain()
    [ticket] = await core.operators.list_tickets()
    with pytest.raises(InvalidInputError):
        await service(core).create_from_ticket(ticket.id, operator)


async def test_only_admins_approve_and_approval_publishes_and_reindexes(
    core: Core, operator: UserView, admin: UserView
) -> None:
    draft = await service(core).create_from_ticket(await resolved_ticket(core, operator), operator)
    kb = FakeKBAdmin()
    with pytest.raises(ForbiddenError):
        await service(core).approve(draft.id, operator, kb)
    assert kb.articles == {} and kb.reindexed == 0
    done = await service(core).approve(draft.id, admin, kb, title="Download an invoice",
                                       questions=["Where is my invoice?", "invoice copy"])
    assert done.status == "approved" and done.approved_by == admin.id and done.index_version == "v1"
    assert done.article_id == f"download-an-invoice-d{draft.id}"
    article = kb.articles[done.article_id]
    assert article["title"] == "Download an invoice"
    assert article["questions"] == ["Where is my invoice?", "invoice copy"]
    assert article["body"].startswith("Invoices are under") and kb.reindexed == 1
    with pytest.raises(ConflictError):
        await service(core).approve(draft.id, admin, kb)
    with pytest.raises(ConflictError):
        await service(core).reject(draft.id, admin)


async def test_a_failed_publication_keeps_the_draft(core: Core, operator: UserView, admin: UserView) -> None:
    draft = await service(core).create_from_ticket(await resolved_ticket(core, operator), operator)
    with pytest.raises(DraftError, match="disk full"):
        await service(core).approve(draft.id, admin, FakeKBAdmin(fail=OSError("disk full")))
    assert (await service(core).get(draft.id)).status == "draft"
    rejected = await service(core).reject(draft.id, admin)
    assert rejected.status == "rejected" and rejected.article_id is None


async def test_gaps_report_shows_the_topic_contained_after_approval(
    core: Core, operator: UserView, admin: UserView
) -> None:
    draft = await service(core).create_from_ticket(await resolved_ticket(core, operator), operator)
    await resolved_ticket(core, operator, user="dan")
    # After approval, the retriever knows the new article: the bot answers the topic.
    kb = FakeKBAdmin(on_reindex=lambda kb: core.retriever.table.update(
        {"invoice": (next(iter(kb.articles)), 0.95)}))
    await service(core).approve(draft.id, admin, kb)
    await core.channel.receive("Where is my invoice for April?", user="eve")
    await core.drain()
    assert "Answer of where-is-my-invoice-for-march" in core.channel.sent[-1].text

    now = SystemClock().now() + timedelta(seconds=1)
    report = await build_gaps(core.store.sessions, TfidfVectorizer(), now)
    [invoice] = [c for c in report.clusters if "invoice" in c.representative.lower()]
    assert invoice.count == 2 and invoice.draft_id == draft.id
    c = invoice.containment
    assert (c.before_contained, c.before_total, c.after_contained, c.after_total) == (0, 2, 1, 1)
