"""``guichet jobs``: look after the durable jobs of the configured database.

- ``guichet jobs list [--status S] [--kind K] [--limit N] [--json]``
- ``guichet jobs show ID``: everything, with the full last error and payload
- ``guichet jobs retry ID [ID ...]`` or ``guichet jobs retry --all-dead [--kind K]``
- ``guichet jobs purge [--older-than-hours H]``: delete old done jobs (default
  ``jobs.keep_done_hours``)

Exit code 1 when an action is refused (a job that is not dead, unknown), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.errors import GuichetError
from gateway.flow.job_admin import STATUSES, JobAdmin, JobInfo

T = TypeVar("T")


def add_jobs_commands(parser: argparse.ArgumentParser) -> None:
    """Add the ``jobs`` sub-commands to the ``guichet jobs`` parser."""
    sub = parser.add_subparsers(dest="jobs_command", required=True)
    ls = sub.add_parser("list", help="jobs, newest first")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--kind", help="route, send, ...")
    ls.add_argument("--limit", type=int, default=50, help="default 50")
    ls.add_argument("--json", action="store_true", help="one JSON object: jobs and counts by status")
    show = sub.add_parser("show", help="one job with its full last error and payload")
    show.add_argument("id", type=int)
    retry = sub.add_parser("retry", help="queue dead jobs again (attempts reset)")
    retry.add_argument("ids", type=int, nargs="*", metavar="ID")
    retry.add_argument("--all-dead", action="store_true", help="every dead job (of --kind)")
    retry.add_argument("--kind", help="with --all-dead: only jobs of this kind")
    purge = sub.add_parser("purge", help="delete done jobs older than a number of hours")
    purge.add_argument("--older-than-hours", type=float, help="default: jobs.keep_done_hours")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _run(settings: Settings, action: Callable[[JobAdmin], Awaitable[T]]) -> T:
    from gateway.db.engine import make_engine, make_session_factory

    async def run() -> T:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        try:
            return await action(JobAdmin(make_session_factory(engine), SystemClock()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _list(args: argparse.Namespace, settings: Settings, out: Console) -> int:
    async def action(admin: JobAdmin) -> tuple[list[JobInfo], dict[str, int]]:
        return await admin.list_jobs(args.status, args.kind, args.limit), await admin.counts()

    jobs, counts = _run(settings, action)
    if args.json:
        print(json.dumps({"jobs": [j.to_dict() for j in jobs], "counts": counts}, ensure_ascii=False))
        return 0
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    out.print(f"Jobs: {summary}")
    table = Table(title="Jobs, newest first", title_justify="left")
    columns = ("id", "kind", "status", "attempts", "run at (UTC)", "updated (UTC)", "payload", "last error")
    for name in columns:
        table.add_column(name, justify="right" if name in ("id", "attempts") else "left", overflow="fold")
    for j in jobs:
        status = f"[red]{j.status}[/]" if j.status == "dead" else j.status
        table.add_row(str(j.id), escape(j.kind), status, f"{j.attempts}/{j.max_attempts}",
                      _when(j.run_at), _when(j.updated_at), escape(json.dumps(j.payload)),
                      escape(j.error_line))
    out.print(table)
    if not jobs:
        out.print("No jobs match.")
    return 0


def _show(args: argparse.Namespace, settings: Settings, out: Console) -> int:
    async def action(admin: JobAdmin) -> JobInfo:
        return await admin.get_job(args.id)

    job = _run(settings, action)
    table = Table(show_header=False, title=f"Job {job.id}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, str]] = [
        ("kind", job.kind),
        ("status", job.status),
        ("attempts", f"{job.attempts}/{job.max_attempts}"),
        ("run at (UTC)", _when(job.run_at)),
        ("created (UTC)", _when(job.created_at)),
        ("updated (UTC)", _when(job.updated_at)),
        ("locked by", job.locked_by or "—"),
        ("locked until (UTC)", _when(job.locked_until)),
        ("payload", json.dumps(job.payload, indent=2, ensure_ascii=False)),
        ("last error", job.last_error or "—"),
    ]
    for name, value in rows:
        table.add_row(name, escape(value))
    out.print(table)
    return 0


def _retry(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    if args.all_dead == bool(args.ids):
        err.print("[red]error:[/] give job ids or --all-dead (not both)")
        return 2
    if args.kind and not args.all_dead:
        err.print("[red]error:[/] --kind goes with --all-dead")
        return 2

    async def action(admin: JobAdmin) -> tuple[list[int], dict[int, str]]:
        if args.all_dead:
            report = await admin.retry_dead(args.kind)
            return report.retried, report.refused
        retried: list[int] = []
        refused: dict[int, str] = {}
        for job_id in args.ids:
            try:
                await admin.retry_job(job_id)
            except GuichetError as exc:
                refused[job_id] = str(exc)
            else:
                retried.append(job_id)
        return retried, refused

    retried, refused = _run(settings, action)
    for job_id in retried:
        out.print(f"job {job_id} queued again")
    for reason in refused.values():
        err.print(f"[red]refused:[/] {escape(reason)}")
    if args.all_dead and not retried and not refused:
        out.print("no dead jobs" + (f" of kind {escape(args.kind)}" if args.kind else ""))
    return 1 if refused else 0


def _purge(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    hours = settings.jobs.keep_done_hours if args.older_than_hours is None else args.older_than_hours
    if hours < 0:
        err.print("[red]error:[/] --older-than-hours must not be negative")
        return 2

    async def action(admin: JobAdmin) -> int:
        return await admin.purge(timedelta(hours=hours))

    count = _run(settings, action)
    out.print(f"deleted {count} done job{'s' if count != 1 else ''} older than {hours:g} h")
    return 0


def run_jobs_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``guichet jobs ...``; returns the process exit code."""
    from gateway.db.migrate import upgrade

    upgrade(settings.database_url)
    out, err = Console(), Console(stderr=True)
    handlers: dict[str, Callable[[], int]] = {
        "list": lambda: _list(args, settings, out),
        "show": lambda: _show(args, settings, out),
        "retry": lambda: _retry(args, settings, out, err),
        "purge": lambda: _purge(args, settings, out, err),
    }
    try:
        return handlers[args.jobs_command]()
    except GuichetError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        return 1

