"""Mail accepted together is committed together (SQLite: one write unit for the
accepts that arrive while one commits), with the same guarantees as alone: each
message stored once, a repeat within the batch found, and one message's failure
its own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.db.tables import Job
from gateway.db.tables_mail import MailInbound
from gateway.mail import ingest_sql
from gateway.mail.ingest import INGEST_JOB, IngestResult, ingest_raw
from tests.support.mail_core import SUPPORT, MailCore, make_mail


async def _accept(mc: MailCore, raw: bytes, ref: str) -> IngestResult:
    return await ingest_raw(mc.mail, raw, source="smtp", source_ref=ref, envelope_to=[SUPPORT],
                            client="192.0.2.1")


async def _counts(mc: MailCore) -> tuple[int, int]:
    async with mc.store.read() as tx:
        mails = await tx.session.scalar(select(func.count()).select_from(MailInbound))
        jobs = await tx.session.scalar(select(func.count()).select_from(Job).where(Job.kind == INGEST_JOB))
        return int(mails or 0), int(jobs or 0)


async def test_concurrent_accepts_are_each_stored_once_and_a_repeat_is_found(mc: MailCore) -> None:
    mails = [make_mail(f"Question {n}", message_id=f"batch{n}@example.org") for n in range(8)]
    repeat = mails[3]  # the same message again (another MTA retrying), in the same burst
    sends = [*mails, repeat]
    results = await asyncio.gather(*(_accept(mc, raw, f"smtp:b{n}") for n, raw in enumerate(sends)))
    # one of the two copies is stored, the other finds it (which one: whoever commits first)
    assert [r.duplicate for i, r in enumerate(results) if i not in (3, 8)] == [False] * 7
    assert sorted([results[3].duplicate, results[8].duplicate]) == [False, True]
    assert results[8].inbound_id == results[3].inbound_id
    assert len({r.inbound_id for r in results[:8]}) == 8
    assert await _counts(mc) == (8, 8)  # one row and one job per message
    assert await mc.drain() >= 8
    async with mc.store.read() as tx:
        statuses = (await tx.session.execute(select(MailInbound.status))).scalars().all()
    assert sorted(statuses) == ["processed"] * 8


@pytest.mark.parametrize("migrated", ["sqlite"], indirect=True)  # the batch is SQLite's
async def test_one_message_that_cannot_be_stored_fails_alone(
    mc: MailCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ingest_sql.store

    async def failing(*args, **kw):  # type: ignore[no-untyped-def]
        if kw["source_ref"] == "smtp:bad":
            raise RuntimeError("disk says no")
        return await store(*args, **kw)

    monkeypatch.setattr(ingest_sql, "store", failing)
    refs = ["smtp:ok0", "smtp:bad", "smtp:ok1", "smtp:ok2"]
    mails = [make_mail(f"Hello {n}", message_id=f"alone{n}@example.org") for n in range(4)]
    results = await asyncio.gather(*(_accept(mc, raw, ref) for raw, ref in zip(mails, refs, strict=True)),
                                   return_exceptions=True)
    assert isinstance(results[1], RuntimeError)  # its SMTP client gets a 451 and sends it again
    assert all(isinstance(r, IngestResult) and not r.duplicate for i, r in enumerate(results) if i != 1)
    assert await _counts(mc) == (3, 3)
