"""Operators' actions taken in Slack, on the core's operator service.

Take over and Resolve are the console's own actions
(:class:`gateway.tickets.operators.SqlOperatorService`: one owner per ticket, a
ticket taken by someone else is a conflict).  A reply or a note written in an
operators' thread is stored *once* under the Slack message's identity (its
external id ``slack-ops:CHANNEL:TS``), so a retried event never doubles it, and
carries ``meta["via"] = "slack"`` so it is not mirrored back into the thread.
"""

from __future__ import annotations

from gateway.tickets.operators import SqlOperatorService
from gateway.views import MessageView, UserView

VIA = "slack"


class SlackDeskActions(SqlOperatorService):
    """The operator service, with replies and notes marked as written in Slack."""

    async def reply_from_slack(
        self, conversation_id: int, user: UserView, text: str, external_id: str
    ) -> MessageView | None:
        """A customer-visible reply; None if that Slack message is stored already."""
        return await self.reply_once(conversation_id, user, text, external_id=external_id, meta={"via": VIA})

    async def note_from_slack(
        self, conversation_id: int, user: UserView, text: str, external_id: str
    ) -> MessageView | None:
        """An internal note; None if that Slack message is stored already."""
        return await self.note_once(conversation_id, user, text, external_id=external_id, meta={"via": VIA})
