"""The Slack channel's share of a customer's data (:mod:`gateway.customers.parts`),
registered by :func:`channels.slack.wiring.setup_slack` (the core never names a
channel).  Its tables hold no text: the DM channel a customer's top-level messages
continue, the operators' thread of each ticket and the outbox's post records.  Erase
removes those rows; the messages already in Slack stay in the workspace (Slack's own
retention and deletion apply there)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customers.parts import CustomerDataPart, CustomerScope
from gateway.db.tables import Conversation, Message
from gateway.db.tables_slack import SlackDmThreadRow, SlackPostRow, SlackTicketThreadRow


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _dm_channels(session: AsyncSession, scope: CustomerScope) -> list[str]:
    stmt = select(Conversation.thread_key).where(
        Conversation.id.in_(scope.conversation_ids), Conversation.channel == "slack"
    )
    keys = (await session.execute(stmt)).scalars()
    return sorted({key.partition(":")[0] for key in keys if key.startswith("D")})


class SlackPart(CustomerDataPart):
    name = "slack"
    tables = frozenset({"slack_dm_threads", "slack_ticket_threads", "slack_posts"})

    async def export(self, session: AsyncSession, scope: CustomerScope) -> dict[str, Any]:
        threads = select(SlackTicketThreadRow).where(
            SlackTicketThreadRow.conversation_id.in_(scope.conversation_ids)
        )
        return {
            "slack": {
                "dm_channels": await _dm_channels(session, scope),
                "operators_threads": [
                    {"ticket_id": t.ticket_id, "channel": t.channel, "ts": t.ts}
                    for t in (await session.execute(threads)).scalars()
                ],
            }
        }

    async def erase(self, session: AsyncSession, scope: CustomerScope) -> dict[str, int]:
        conversations = list(scope.conversation_ids)
        dms = await _dm_channels(session, scope)
        keys = select(Message.outbound_key).where(
            Message.conversation_id.in_(conversations), Message.outbound_key.is_not(None)
        )
        return {
            "slack_dm_threads": _count(
                await session.execute(delete(SlackDmThreadRow).where(SlackDmThreadRow.channel.in_(dms)))
            ),
            "slack_ticket_threads": _count(
                await session.execute(
                    delete(SlackTicketThreadRow).where(
                        SlackTicketThreadRow.conversation_id.in_(conversations)
                    )
                )
            ),
            "slack_posts": _count(
                await session.execute(delete(SlackPostRow).where(SlackPostRow.key.in_(keys)))
            ),
        }


PART = SlackPart()
