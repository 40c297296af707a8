"""The KB gaps report over a time window, from the store: what the CLI and the
console show."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.kb.containment import load_records
from gateway.kb.drafts import approved_topics
from gateway.kb.gaps import GapReport, gaps_report
from gateway.kb.vectors import Vectorizer

DEFAULT_DAYS = 30


async def build_gaps(
    sessions: async_sessionmaker[AsyncSession],
    vectorizer: Vectorizer,
    now: datetime,
    days: float = DEFAULT_DAYS,
    limit: int = 20,
) -> GapReport:
    """Clusters of the questions not contained in the last ``days`` days.  The
    vectors are computed in a thread: a real embedder must not block the loop."""
    since = now - timedelta(days=days)
    records = await load_records(sessions, since, now + timedelta(seconds=1))
    topics = await approved_topics(sessions)
    return await asyncio.to_thread(gaps_report, records, vectorizer, since, now, topics, limit)
