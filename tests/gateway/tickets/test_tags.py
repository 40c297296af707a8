"""Ticket tags and categories (issue 9), on SQLite and PostgreSQL: tags are
normalised (one tag however it is typed), suggested from those in use, recorded in
the ticket's history, and filter the desk's lists; the category "complaint" switches
the ticket to the complaints' own SLA policy."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidInputError
from gateway.tickets.search import TicketQuery
from gateway.tickets.tags import MAX_TAGS, TagService, normalise
from gateway.views import UserView
from tests.gateway.tickets.fixtures import Desk


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("Invoice  Export", "invoice-export"),
        ("invoice-export", "invoice-export"),
        ("INVOICE_export", "invoice-export"),
        ("  --Facturé!! ", "facturé"),
        ("ＶＩＰ", "vip"),  # full-width letters (NFKC)
        ("a" * 60, "a" * 40),
        ("!!!", ""),
    ],
)
def test_tags_are_normalised(raw: str, tag: str) -> None:
    assert normalise(raw) == tag


async def test_tags_are_added_removed_recorded_and_suggested(desk: Desk, olga: UserView) -> None:
    first = await desk.handoff("alice")
    second = await desk.handoff("bob")
    tags = TagService(desk.store)
    assert await tags.change(first.id, olga, add=["Invoice Export", "invoice_export", "VIP"]) == [
        "invoice-export", "vip"]
    both = ["invoice-export", "outage"]
    assert await tags.change(second.id, olga, add=both) == both
    assert await tags.change(first.id, olga, remove=["VIP"]) == ["invoice-export"]
    assert await tags.change(first.id, olga, add=["invoice export"]) == ["invoice-export"]  # nothing new

    assert await tags.suggest("INV") == [{"tag": "invoice-export", "tickets": 2}]
    assert [s["tag"] for s in await tags.suggest("")] == ["invoice-export", "outage"]
    assert await tags.suggest("v") == []  # "vip" was removed everywhere

    async with desk.store.read() as tx:
        lines = [m.text for m in await tx.messages(first.conversation_id, include_internal=True)]
    assert "Olga: tags +invoice-export, +vip." in lines and "Olga: tags -vip." in lines
    detail = await desk.desk.detail(first.id)
    changes = [(h["before"], h["after"]) for h in detail["history"] if h["kind"] == "tags"]
    assert changes == [({"tags": []}, {"tags": ["invoice-export", "vip"]}),
                       ({"tags": ["invoice-export", "vip"]}, {"tags": ["invoice-export"]})]


async def test_the_desk_list_filters_by_tag_and_shows_the_tags(desk: Desk, olga: UserView) -> None:
    first = await desk.handoff("alice")
    second = await desk.handoff("bob")
    await desk.handoff("carol")
    tags = TagService(desk.store)
    await tags.change(first.id, olga, add=["outage"])
    await tags.change(second.id, olga, add=["outage", "vip"])

    found = await desk.search.find(TicketQuery(view="all", tag="Outage"), olga.id)
    assert sorted(t["id"] for t in found) == sorted([first.id, second.id])
    assert {t["id"]: t["tags"] for t in found}[second.id] == ["outage", "vip"]
    vip = await desk.search.find(TicketQuery(view="all", tag="vip"), olga.id)
    assert [t["id"] for t in vip] == [second.id]
    assert await desk.search.find(TicketQuery(view="all", tag="nothing"), olga.id) == []
    everything = await desk.search.find(TicketQuery(view="all"), olga.id)
    assert len(everything) == 3 and {t["id"]: t["tags"] for t in everything}[first.id] == ["outage"]


async def test_bad_tags_are_refused(desk: Desk, olga: UserView) -> None:
    ticket = await desk.handoff()
    tags = TagService(desk.store)
    with pytest.raises(InvalidInputError, match="not a tag"):
        await tags.change(ticket.id, olga, add=["???"])
    with pytest.raises(InvalidInputError, match=r"add.*remove"):
        await tags.change(ticket.id, olga)
    with pytest.raises(InvalidInputError, match=f"at most {MAX_TAGS}"):
        await tags.change(ticket.id, olga, add=[f"tag{i}" for i in range(MAX_TAGS + 1)])
    assert await tags.of_ticket(ticket.id) == []


async def test_a_complaint_gets_the_complaints_sla_policy(desk: Desk, olga: UserView) -> None:
    """The fixture's policy file has a "complaints" policy for category "complaint"
    (first response 10 business minutes) beside "standard" (60 for P3)."""
    ticket = await desk.handoff()
    before = await desk.desk.detail(ticket.id)
    assert before["sla"]["policy"] == "standard"
    await desk.desk.set_category(ticket.id, olga, "Complaint")
    after = await desk.desk.detail(ticket.id)
    assert after["ticket"]["category"] == "complaint"
    assert after["sla"]["policy"] == "complaints"
    assert before["ticket"]["first_response_due"] == "2026-01-05T10:00:00+00:00"  # 60 business minutes
    assert after["ticket"]["first_response_due"] == "2026-01-05T09:10:00+00:00"  # 10, from the creation
