"""The Slack channel's durable bookkeeping (``gateway.db.tables_slack``): event ids
already handled, the thread each DM continues, the outbox's posts by idempotency
key, and the operators' thread of each ticket.  Each function is one short
transaction of database work only (no Slack call inside a transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from gateway.db.tables_slack import SlackDmThreadRow, SlackEventRow, SlackPostRow, SlackTicketThreadRow
from gateway.flow.store import SqlStore

POSTING, POSTED = "posting", "posted"


@dataclass(frozen=True, slots=True)
class TicketThread:
    ticket_id: int
    conversation_id: int
    channel: str
    ts: str | None
    state: str
    mirrored_upto: int


def _thread(row: SlackTicketThreadRow) -> TicketThread:
    return TicketThread(row.ticket_id, row.conversation_id, row.channel, row.ts, row.state, row.mirrored_upto)


class SlackRecords:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ events
    async def seen(self, event_id: str) -> bool:
        async with self.store.read() as tx:
            return await tx.session.get(SlackEventRow, event_id) is not None

    async def remember(self, event_id: str, kind: str) -> bool:
        """Record ``event_id`` as handled; False if it already was."""
        try:
            async with self.store.tx() as tx:
                if await tx.session.get(SlackEventRow, event_id) is not None:
                    return False
                tx.session.add(SlackEventRow(event_id=event_id[:200], kind=kind[:40], received_at=tx.now()))
        except IntegrityError:  # a concurrent delivery of the same event won
            return False
        return True

    async def forget_events(self, hours: float) -> int:
        """Forget event ids, and posts known to be posted, older than ``hours``."""
        async with self.store.tx() as tx:
            cutoff = tx.now() - timedelta(hours=hours)
            result = await tx.session.execute(delete(SlackEventRow).where(SlackEventRow.received_at < cutoff))
            await tx.session.execute(
                delete(SlackPostRow).where(SlackPostRow.state == POSTED, SlackPostRow.updated_at < cutoff)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # -------------------------------------------------------------- DM threads
    async def dm_root(self, channel: str) -> str | None:
        async with self.store.read() as tx:
            row = await tx.session.get(SlackDmThreadRow, channel)
            return row.root_ts if row else None

    async def set_dm_root(self, channel: str, root_ts: str) -> None:
        async with self.store.tx() as tx:
            row = await tx.session.get(SlackDmThreadRow, channel)
            if row is None:
                tx.session.add(SlackDmThreadRow(channel=channel, root_ts=root_ts, updated_at=tx.now()))
            else:
                row.root_ts, row.updated_at = root_ts, tx.now()

    # ------------------------------------------------------------ outbox posts
    async def post(self, key: str) -> tuple[str, str | None] | None:
        """(state, ts) of the post with this idempotency key, if any."""
        async with self.store.read() as tx:
            row = await tx.session.get(SlackPostRow, key)
            return (row.state, row.ts) if row else None

    async def mark_posting(self, key: str, channel: str, thread_ts: str) -> None:
        async with self.store.tx() as tx:
            row = await tx.session.get(SlackPostRow, key)
            if row is None:
                tx.session.add(
                    SlackPostRow(
                        key=key,
                        channel=channel,
                        thread_ts=thread_ts,
                        ts=None,
                        state=POSTING,
                        updated_at=tx.now(),
                    )
                )
            else:
                row.state, row.updated_at = POSTING, tx.now()

    async def mark_posted(self, key: str, ts: str) -> None:
        async with self.store.tx() as tx:
            row = await tx.session.get(SlackPostRow, key)
            if row is not None:
                row.state, row.ts, row.updated_at = POSTED, ts, tx.now()

    async def clear_post(self, key: str) -> None:
        """Slack said it did not post (429, a refusal): nothing to look for on retry."""
        async with self.store.tx() as tx:
            await tx.session.execute(delete(SlackPostRow).where(SlackPostRow.key == key))

    # ---------------------------------------------------- operators' threads
    async def ticket_thread(self, ticket_id: int) -> TicketThread | None:
        async with self.store.read() as tx:
            row = await tx.session.get(SlackTicketThreadRow, ticket_id)
            return _thread(row) if row else None

    async def thread_at(self, channel: str, ts: str) -> TicketThread | None:
        async with self.store.read() as tx:
            stmt = select(SlackTicketThreadRow).where(
                SlackTicketThreadRow.channel == channel, SlackTicketThreadRow.ts == ts
            )
            row = (await tx.session.execute(stmt)).scalar_one_or_none()
            return _thread(row) if row else None

    async def conversation_thread(self, conversation_id: int) -> TicketThread | None:
        """The newest ticket thread of a conversation (a conversation may have several tickets)."""
        async with self.store.read() as tx:
            stmt = (
                select(SlackTicketThreadRow)
                .where(SlackTicketThreadRow.conversation_id == conversation_id)
                .order_by(SlackTicketThreadRow.ticket_id.desc())
                .limit(1)
            )
            row = (await tx.session.execute(stmt)).scalar_one_or_none()
            return _thread(row) if row else None

    async def threads(self) -> list[TicketThread]:
        async with self.store.read() as tx:
            rows = (await tx.session.execute(select(SlackTicketThreadRow))).scalars()
            return [_thread(r) for r in rows]

    async def start_thread(self, ticket_id: int, conversation_id: int, channel: str) -> TicketThread:
        async with self.store.tx() as tx:
            row = await tx.session.get(SlackTicketThreadRow, ticket_id)
            if row is None:
                row = SlackTicketThreadRow(
                    ticket_id=ticket_id,
                    conversation_id=conversation_id,
                    channel=channel,
                    ts=None,
                    state=POSTING,
                    mirrored_upto=0,
                    created_at=tx.now(),
                    updated_at=tx.now(),
                )
                tx.session.add(row)
            return _thread(row)

    async def thread_posted(self, ticket_id: int, ts: str, mirrored_upto: int) -> None:
        async with self.store.tx() as tx:
            row = await tx.session.get(SlackTicketThreadRow, ticket_id)
            if row is not None:
                row.ts, row.state, row.updated_at = ts, POSTED, tx.now()
                row.mirrored_upto = max(row.mirrored_upto, mirrored_upto)

    async def mirrored(self, ticket_id: int, upto: int) -> None:
        async with self.store.tx() as tx:
            row = await tx.session.get(SlackTicketThreadRow, ticket_id)
            if row is not None and upto > row.mirrored_upto:
                row.mirrored_upto, row.updated_at = upto, tx.now()
