"""Looking after jobs: the JobAdmin service, ``guichet jobs`` and housekeeping, on
SQLite and PostgreSQL (the ``migrated`` fixture).  Dead jobs are rows written
straight into the jobs table."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.cli import main
from gateway.clock import FakeClock, SystemClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.tables import Job, Message, SessionRow
from gateway.errors import NotFoundError
from gateway.flow import housekeeping as hk
from gateway.flow.job_admin import JobAdmin, RetryRefused
from tests.support.job_rows import Sessions, add_job, add_message


@dataclass
class Env:
    settings: Settings
    sessions: Sessions
    clock: FakeClock
    admin: JobAdmin


@pytest.fixture
async def env(migrated: Settings) -> AsyncIterator[Env]:
    engine = make_engine(migrated.database_url)
    sessions = make_session_factory(engine)
    clock = FakeClock()
    yield Env(migrated, sessions, clock, JobAdmin(sessions, clock))
    await engine.dispose()


async def job_row(env: Env, job_id: int) -> Job:
    async with env.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def message_row(env: Env, message_id: int) -> Message:
    async with env.sessions() as session:
        msg = await session.get(Message, message_id)
        assert msg is not None
        return msg


# ------------------------------------------------------------------ service


async def test_list_get_and_counts(env: Env) -> None:
    now = env.clock.now()
    dead = await add_job(env.sessions, now, kind="send", status="dead", payload={"message_id": 7})
    done = await add_job(env.sessions, now, kind="route", status="done", error=None)
    queued = await add_job(env.sessions, now, kind="route", status="queued", attempts=0, error=None)

    assert [j.id for j in await env.admin.list_jobs()] == [queued, done, dead]  # newest first
    assert [j.id for j in await env.admin.list_jobs(status="dead")] == [dead]
    assert [j.id for j in await env.admin.list_jobs(kind="route")] == [queued, done]
    assert [j.id for j in await env.admin.list_jobs(limit=1)] == [queued]
    assert await env.admin.counts() == {"queued": 1, "running": 0, "dead": 1, "done": 1}

    job = await env.admin.get_job(dead)
    assert (job.kind, job.status, job.attempts, job.max_attempts) == ("send", "dead", 8, 8)
    assert job.error_line == "TransientDeliveryError: connection refused"
    assert job.last_error is not None and "Traceback" in job.last_error
    assert job.payload == {"message_id": 7} and job.message_id == 7
    assert job.run_at == now and job.updated_at == now
    with pytest.raises(NotFoundError):
        await env.admin.get_job(9999)


async def test_retrying_a_dead_send_requeues_it_and_its_failed_delivery(env: Env) -> None:
    now = env.clock.now()
    mid, _, _ = await add_message(env.sessions, now, delivery="failed",
                                  meta={"delivery_detail": "550 no such user", "keep": 1})
    jid = await add_job(env.sessions, now - timedelta(hours=1), kind="send", payload={"message_id": mid},
                        locked_by="w1:abc")
    env.clock.advance(minutes=5)

    job = await env.admin.retry_job(jid)

    assert (job.status, job.attempts) == ("queued", 0)
    row = await job_row(env, jid)
    assert (row.status, row.attempts, row.locked_by, row.locked_until) == ("queued", 0, None, None)
    assert row.run_at == env.clock.now() and row.updated_at == env.clock.now()
    assert row.last_error is not None and row.last_error.startswith("TransientDeliveryError")  # kept
    msg = await message_row(env, mid)
    assert msg.delivery == "queued"
    assert msg.meta == {"keep": 1}


async def test_a_dead_send_whose_message_is_not_failed_keeps_its_delivery(env: Env) -> None:
    now = env.clock.now()
    mid, _, _ = await add_message(env.sessions, now, delivery="sent", meta={"delivery_detail": "250 ok"})
    jid = await add_job(env.sessions, now, kind="send", payload={"message_id": mid})
    await env.admin.retry_job(jid)
    msg = await message_row(env, mid)
    assert (msg.delivery, msg.meta) == ("sent", {"delivery_detail": "250 ok"})
    assert (await job_row(env, jid)).status == "queued"


@pytest.mark.parametrize("status", ["done", "queued", "running"])
async def test_only_dead_jobs_can_be_retried(env: Env, status: str) -> None:
    now = env.clock.now()
    mid, _, _ = await add_message(env.sessions, now, delivery="failed", meta={"delivery_detail": "x"})
    jid = await add_job(env.sessions, now, kind="send", status=status, attempts=3,
                        payload={"message_id": mid}, locked_by="w:1" if status == "running" else None)
    with pytest.raises(RetryRefused) as caught:
        await env.admin.retry_job(jid)
    assert str(caught.value) == f"job {jid} is {status}, only dead jobs can be retried"
    row = await job_row(env, jid)
    assert (row.status, row.attempts) == (status, 3)
    assert (await message_row(env, mid)).delivery == "failed"
    with pytest.raises(NotFoundError, match="no job 4242"):
        await env.admin.retry_job(4242)


async def test_a_route_already_handed_to_an_operator_is_not_retried(env: Env) -> None:
    now = env.clock.now()
    mid, _, _ = await add_message(env.sessions, now, direction="in", meta={"routed": True})
    jid = await add_job(env.sessions, now, kind="route", payload={"message_id": mid})
    with pytest.raises(RetryRefused) as caught:
        await env.admin.retry_job(jid)
    assert str(caught.value) == f"message {mid} was already handed to an operator; nothing to retry"
    row = await job_row(env, jid)
    assert (row.status, row.attempts) == ("dead", 8)  # the guarded update was rolled back

    unrouted, _, _ = await add_message(env.sessions, now, direction="in", address="visitor-2")
    other = await add_job(env.sessions, now, kind="route", payload={"message_id": unrouted})
    assert (await env.admin.retry_job(other)).status == "queued"


async def test_retry_all_dead_reports_refusals(env: Env) -> None:
    now = env.clock.now()
    routed, _, _ = await add_message(env.sessions, now, direction="in", meta={"routed": True})
    failed, _, _ = await add_message(env.sessions, now, delivery="failed", address="visitor-2")
    refused = await add_job(env.sessions, now, kind="route", payload={"message_id": routed})
    send = await add_job(env.sessions, now, kind="send", payload={"message_id": failed})
    other = await add_job(env.sessions, now, kind="webhook", payload={"url": "x"})
    done = await add_job(env.sessions, now, kind="send", status="done")

    report = await env.admin.retry_dead(kind="send")
    assert (report.retried, report.refused) == ([send], {})
    report = await env.admin.retry_dead()
    assert report.retried == [other]
    assert list(report.refused) == [refused] and "already handed" in report.refused[refused]
    assert (await job_row(env, done)).status == "done"
    assert await env.admin.counts() == {"queued": 2, "running": 0, "dead": 1, "done": 1}


async def test_purge_deletes_old_done_jobs_only(env: Env) -> None:
    now = env.clock.now()
    week = timedelta(hours=168)
    old_done = await add_job(env.sessions, now, status="done", age=week + timedelta(minutes=1))
    new_done = await add_job(env.sessions, now, status="done", age=week - timedelta(minutes=1))
    kept = [
        await add_job(env.sessions, now, status=status, age=timedelta(days=30), locked_by=lock)
        for status, lock in (("dead", None), ("queued", None), ("running", "w:1"))
    ]
    assert await env.admin.purge(week) == 1
    ids = {j.id for j in await env.admin.list_jobs()}
    assert old_done not in ids and ids == {new_done, *kept}
    assert await env.admin.purge(week) == 0


# ------------------------------------------------------------- housekeeping


async def add_session(env: Env, sid: str, user_id: int, expires_in: timedelta) -> None:
    now = env.clock.now()
    async with env.sessions() as session, session.begin():
        session.add(SessionRow(id=sid, user_id=user_id, csrf_token="t", created_at=now - timedelta(hours=1),
                               expires_at=now + expires_in))


async def test_housekeeping_purges_old_done_jobs_and_expired_sessions_only(env: Env) -> None:
    from gateway.auth import create_user

    user = await create_user(env.sessions, "olga", "correct horse battery", "operator", "Olga")
    await add_session(env, "expired", user.id, -timedelta(minutes=1))
    await add_session(env, "valid", user.id, timedelta(hours=2))
    now = env.clock.now()
    env.settings.jobs.keep_done_hours = 24
    await add_job(env.sessions, now, status="done", age=timedelta(hours=25))
    young = await add_job(env.sessions, now, status="done", age=timedelta(hours=23))
    dead = await add_job(env.sessions, now, status="dead", age=timedelta(days=60))

    counts = await hk.purge_once(env.sessions, env.clock, env.settings)

    assert (counts.jobs, counts.sessions) == (1, 1)
    async with env.sessions() as session:
        left = set((await session.execute(select(SessionRow.id))).scalars())
    assert left == {"valid"}
    assert {j.id for j in await env.admin.list_jobs()} == {young, dead}


async def test_housekeeping_runs_every_interval_survives_errors_and_stops(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    async def flaky(sessions: Any, clock: Any, settings: Any) -> hk.PurgeCounts:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return hk.PurgeCounts(0, 0)

    monkeypatch.setattr(hk, "purge_once", flaky)
    env.settings.jobs.housekeeping_interval = 0.01
    ctx = hk.housekeeping(env.sessions, env.clock, env.settings)(None)
    with caplog.at_level(logging.ERROR, logger="gateway.flow.housekeeping"):
        await ctx.__anext__()
        for _ in range(200):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(StopAsyncIteration):
            await ctx.__anext__()  # shutdown: the loop is cancelled
    assert len(calls) >= 3
    assert "housekeeping failed" in caplog.text
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "housekeeping"]
    settled = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == settled

    env.settings.jobs.housekeeping_interval = 0  # disabled
    calls.clear()
    ctx = hk.housekeeping(env.sessions, env.clock, env.settings)(None)
    await ctx.__anext__()
    await asyncio.sleep(0.05)
    with pytest.raises(StopAsyncIteration):
        await ctx.__anext__()
    assert calls == []


# ---------------------------------------------------------------------- CLI


async def guichet(env: Env, tmp_path: Path, *args: str) -> int:
    config = tmp_path / "guichet.toml"
    config.write_text(
        f'[server]\ndata_dir = "{env.settings.server.data_dir}"\nsecret_key = "k"\n'
        f'[database]\nurl = "{env.settings.database_url}"\n'
    )
    return await asyncio.to_thread(main, ["--config", str(config), "jobs", *args])


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich tables unfolded


async def test_cli_list_show_retry_purge(
    env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str], wide: None
) -> None:
    now = SystemClock().now()  # the CLI runs on the system clock
    mid, _, _ = await add_message(env.sessions, now, delivery="failed", meta={"delivery_detail": "bounced"})
    dead = await add_job(env.sessions, now, kind="send", payload={"message_id": mid},
                         error="SMTPRecipientsRefused: 550\nsecond line of the trace")
    done = await add_job(env.sessions, now, kind="route", status="done", error=None, age=timedelta(hours=200))
    capsys.readouterr()

    assert await guichet(env, tmp_path, "list", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [j["id"] for j in data["jobs"]] == [done, dead]
    assert data["counts"] == {"queued": 0, "running": 0, "dead": 1, "done": 1}
    assert data["jobs"][1]["error"] == "SMTPRecipientsRefused: 550"

    assert await guichet(env, tmp_path, "list", "--status", "dead") == 0
    out = capsys.readouterr().out
    assert "1 dead" in out and "SMTPRecipientsRefused: 550" in out and "second line" not in out
    assert f'"message_id": {mid}' in out

    assert await guichet(env, tmp_path, "show", str(dead)) == 0
    out = capsys.readouterr().out
    assert "second line of the trace" in out and f'"message_id": {mid}' in out and "8/8" in out

    assert await guichet(env, tmp_path, "retry", str(done)) == 1
    err = capsys.readouterr().err
    assert f"job {done} is done, only dead jobs can be retried" in err
    assert await guichet(env, tmp_path, "show", "999") == 1
    assert "no job 999" in capsys.readouterr().err

    assert await guichet(env, tmp_path, "retry", str(dead)) == 0
    assert f"job {dead} queued again" in capsys.readouterr().out
    assert (await job_row(env, dead)).status == "queued"
    assert (await message_row(env, mid)).delivery == "queued"

    assert await guichet(env, tmp_path, "retry") == 2  # neither ids nor --all-dead
    assert await guichet(env, tmp_path, "retry", "--all-dead") == 0
    assert "no dead jobs" in capsys.readouterr().out

    assert await guichet(env, tmp_path, "purge", "--older-than-hours", "300") == 0
    assert "deleted 0 done jobs" in capsys.readouterr().out
    assert await guichet(env, tmp_path, "purge") == 0  # default keep_done_hours = 168
    assert "deleted 1 done job older than 168 h" in capsys.readouterr().out
    assert {j.id for j in await env.admin.list_jobs()} == {dead}


async def test_cli_retry_all_dead_exits_1_when_some_are_refused(
    env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str], wide: None
) -> None:
    now = SystemClock().now()
    routed, _, _ = await add_message(env.sessions, now, direction="in", meta={"routed": True})
    refused = await add_job(env.sessions, now, kind="route", payload={"message_id": routed})
    ok = await add_job(env.sessions, now, kind="webhook")
    capsys.readouterr()

    assert await guichet(env, tmp_path, "retry", "--all-dead", "--kind", "webhook") == 0
    assert f"job {ok} queued again" in capsys.readouterr().out
    assert await guichet(env, tmp_path, "retry", "--all-dead") == 1
    captured = capsys.readouterr()
    assert f"message {routed} was already handed to an operator; nothing to retry" in captured.err
    assert (await job_row(env, refused)).status == "dead"
