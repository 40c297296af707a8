"""A Slack customer's export lists the Slack records about them; erasing the customer
removes them (the DM thread, the operators' thread record, the post records)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from gateway.audit import Actor
from gateway.clock import FakeClock
from gateway.customers import erase_customer, export_customer
from gateway.db.tables import Conversation
from gateway.db.tables_slack import SlackDmThreadRow, SlackPostRow, SlackTicketThreadRow
from gateway.web import keys
from tests.channels.slack.conftest import CAROL, SlackSite, ticket_root
from tests.support.slack_requests import dm

DPO = Actor("user", 99, "dpo", remote="10.0.0.9")
CLOCK = FakeClock(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))


async def counts(site: SlackSite) -> list[int]:
    async with site.app[keys.SESSIONS]() as session:
        return [
            int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (SlackDmThreadRow, SlackTicketThreadRow, SlackPostRow)
        ]


async def test_export_and_erase_cover_the_slack_records(site: SlackSite) -> None:
    await site.slack.event(dm(CAROL, "I want to talk to a person", "1800000700.000001", channel="D0CAROL"))
    root = await ticket_root(site)
    assert all(n >= 1 for n in await counts(site))
    async with site.app[keys.SESSIONS]() as session:
        customer = (await session.execute(select(Conversation.customer_id))).scalar_one()
    sessions = site.app[keys.SESSIONS]
    doc = await export_customer(sessions, customer, actor=DPO, clock=CLOCK)
    assert doc["slack"]["dm_channels"] == ["D0CAROL"]
    assert [t["ts"] for t in doc["slack"]["operators_threads"]] == [root.ts]
    removed = await erase_customer(sessions, customer, actor=DPO, clock=CLOCK)
    assert removed["slack_dm_threads"] == 1 and removed["slack_ticket_threads"] == 1
    assert await counts(site) == [0, 0, 0]
