"""SMTP in: messages accepted **and committed** per second through Guichet's own
listener, against a bare aiosmtpd sink driven identically in the same run.

Ours: the real app (``gateway.app.create_app`` with ``[email] enabled``) in its own
process, SQLite in a temporary data dir, job workers running as in ``guichet serve``
(each accepted mail is parsed, threaded and answered by the stub bot in the
background, its reply relayed to a second sink process), its SMTP service on
127.0.0.1.  Raw: a bare aiosmtpd server in its own process whose handler answers
``250`` to DATA and stores nothing (the headline ratio).  A second baseline, the
*durable sink*, appends each message to a file and fsyncs it before its ``250``:
the raw cost of the guarantee ours gives (each in a thread, as a plain server
would).  All are driven by the same aiosmtplib clients: N concurrent connections,
each sending its share of a bounded number of messages (one SMTP transaction per
message, connections reused, as an MTA does).  Ours and the sinks alternate in
rounds so a noisy neighbour hits them alike; after each of its rounds ours is
left to finish processing (every mail parsed, threaded, answered, its reply
relayed) before the next round of anyone, so that work never lands on a sink's
round.  The "end to end" row counts that time too: messages per second from the
first MAIL to the last reply relayed.

After the run the app's database is read: every message sent must be committed
exactly once (one ``mail_inbound`` row per Message-ID) and processed; otherwise
the bench fails.

    python -m bench --only email                 # 300 messages, 1 and 10 clients
    python -m bench.email_smtp serve-sink        # the raw server alone (prints READY <port>)
    python -m bench.email_smtp serve-sink --durable FILE   # the durable sink
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bench.email_servers import SUPPORT, UNLIMITED, serve_app, serve_sink
from bench.perf.options import PerfOptions
from bench.perf.procs import ServerProcess
from bench.perf.stats import RATE_UNIT, BenchResult, Row, Summary, compare
from gateway import event_loop, gc_tuning
from gateway.config import ServerSettings
from gateway.mail.smtp_pause import MAX_WAIT_SECONDS

RATE_LABEL = "accepted + committed"
END_TO_END_LABEL = "end to end (replies relayed)"
TARGET = 0.5  # issue 8, acceptance 7: ours / raw messages per second


@dataclass(frozen=True, slots=True)
class EmailOptions:
    """Counts, never durations; per case and per side (ours, raw)."""

    messages: int
    clients: tuple[int, ...]
    rounds: int = 2  # ours and raw alternate, each case split in this many rounds
    timeout: float = 60.0

    @classmethod
    def for_mode(cls, mode: str) -> EmailOptions:
        if mode == "full":
            return cls(messages=300, clients=(1, 10))
        if mode == "quick":
            return cls(messages=100, clients=(1, 10))
        if mode == "tiny":
            return cls(messages=6, clients=(1, 3), timeout=30.0)
        raise ValueError(f"unknown mode {mode!r} (full, quick or tiny)")


@dataclass
class SmtpRun:
    latencies: list[float] = field(default_factory=list)  # MAIL FROM .. the 250 after DATA
    wall: float = 0.0
    accepted: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: SmtpRun) -> None:
        self.latencies += other.latencies
        self.wall += other.wall
        self.accepted += other.accepted
        self.errors += other.errors


def make_message(run: str, n: int) -> tuple[str, bytes]:
    """One customer's plain mail (about 1 KB), its own sender and Message-ID."""
    msg = EmailMessage()
    sender = f"customer{n}@example.org"
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = f"Question {n} about my invoice"
    msg["Message-ID"] = f"<bench-{run}-{n}@example.org>"
    msg["Date"] = format_datetime(datetime_for(n))
    msg.set_content(
        f"Hello,\n\nI received invoice {1000 + n} this morning and the amount looks wrong:\n"
        "it charges the annual plan twice. Could you check it and tell me how to get\n"
        "the difference back?\n\nThank you,\nCustomer\n" + "-- \nSent from my laptop\n" * 3
    )
    return sender, msg.as_bytes().replace(b"\n", b"\r\n")


def datetime_for(n: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime(2026, 12, 3, 9, 0, tzinfo=UTC) + timedelta(seconds=n)


async def drive(port: int, messages: Sequence[tuple[str, bytes]], clients: int, timeout: float) -> SmtpRun:
    """``clients`` aiosmtplib connections share the messages; each sends its next one
    as soon as the last one got its answer (closed loop)."""
    import aiosmtplib

    run = SmtpRun()
    todo: Iterator[tuple[str, bytes]] = iter(messages)

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=timeout, start_tls=False)
        try:
            await smtp.connect()
            for sender, raw in todo:
                started = time.perf_counter()
                try:
                    refused, _ = await smtp.sendmail(sender, [SUPPORT], raw)
                except aiosmtplib.SMTPException as exc:
                    run.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if refused:
                    run.errors.append(f"refused: {refused}")
                    continue
                run.latencies.append(time.perf_counter() - started)
                run.accepted += 1
        except (OSError, aiosmtplib.SMTPException) as exc:
            run.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if smtp.is_connected:
                try:
                    await smtp.quit()
                except aiosmtplib.SMTPException:
                    smtp.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.wall = time.perf_counter() - started
    return run


def committed(db: Path) -> dict[str, int]:
    """Message-ID -> number of ``mail_inbound`` rows in the app's database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT message_id, count(*) FROM mail_inbound GROUP BY message_id").fetchall()
        return {str(mid): int(n) for mid, n in rows}


def processed(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM mail_inbound WHERE status = 'processed'").fetchone()[0])


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _settled(db: Path, count: int, timeout: float) -> bool:
    """Wait (bounded) until ``count`` mails are processed and no job is queued or
    running: every reply relayed.  False on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with sqlite3.connect(db) as conn:
            busy = conn.execute(
                "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchone()[0]
        if not busy and processed(db) >= count:
            return True
        await asyncio.sleep(0.1)
    return False


def case_label(clients: int) -> str:
    return "1 client" if clients == 1 else f"{clients} concurrent clients"


async def bench_email(opts: PerfOptions, eopts: EmailOptions | None = None) -> BenchResult:
    eopts = eopts or EmailOptions.for_mode(opts.mode)
    loop = event_loop.resolve("auto")  # both servers run on it, as `guichet serve` does
    result = BenchResult(
        name="email:smtp",
        title="SMTP in — messages accepted and committed, Guichet's listener vs a bare aiosmtpd sink",
        ours=f"gateway.app.create_app with [email] enabled in its own process on {loop} (SQLite, job "
             "workers processing each mail in the background, stub bot, replies relayed to a sink), its "
             "SMTP listener on 127.0.0.1; the 250 comes after the raw message and its job are committed",
        raw=f"bare aiosmtpd server in its own process on {loop}, handler returns 250 to DATA and stores "
            "nothing; same aiosmtplib clients, same messages (the 'vs the durable sink' rows: the same "
            "server appending each message to a file and fsyncing it, in a thread, before its 250)",
        params={"messages": eopts.messages, "clients": list(eopts.clients), "rounds": eopts.rounds,
                "event_loop": loop, "gc_threshold": ServerSettings().gc_threshold},
    )
    with tempfile.TemporaryDirectory(prefix="guichet-bench-email-") as tmp:
        work = Path(tmp)
        raw_sink = ServerProcess("bench.email_smtp", ["serve-sink"], work / "sink.log")
        durable_sink = ServerProcess("bench.email_smtp", ["serve-sink", "--durable", str(work / "sink.mbox")],
                                     work / "durable.log")
        relay = ServerProcess("bench.email_smtp", ["serve-sink"], work / "relay.log")
        app = ServerProcess(
            "bench.email_smtp", ["serve-app", "--data-dir", str(work / "data")], work / "app.log"
        )
        accept_only = ServerProcess(
            "bench.email_smtp", ["serve-app", "--data-dir", str(work / "data-accept"), "--workers", "0"],
            work / "accept.log",
        )
        try:
            async with raw_sink, durable_sink, relay:
                sinks = {"raw": raw_sink.port, "durable": durable_sink.port}
                app.args += ["--relay-port", str(relay.port)]
                accept_only.args += ["--relay-port", str(relay.port)]
                messages = Messages()
                async with app:
                    for port in sinks.values():  # warm, not timed
                        await drive(port, messages.batch("raw", 3), 1, eopts.timeout)
                    await drive(app.port, messages.batch("ours", 3), 1, eopts.timeout)
                    await _settled(work / "data" / "guichet.db", 3, eopts.timeout)
                    cpu_before, first = cpu_seconds(app.pid), len(messages.sent["ours"])
                    for clients in eopts.clients:
                        await _case(result, case_label(clients), app.port, sinks, clients, eopts,
                                    messages, "ours", work / "data" / "guichet.db")
                    total = len(messages.sent["ours"])
                    if await _settled(work / "data" / "guichet.db", total, 4 * eopts.timeout):
                        per_mail = 1000 * (cpu_seconds(app.pid) - cpu_before) / max(total - first, 1)
                        result.params["app_cpu_ms_per_mail"] = round(per_mail, 1)
                _check_committed(result, work / "data" / "guichet.db", messages.sent["ours"], "")
                async with accept_only:  # the accept alone: no job runs, not even the fast path
                    await drive(accept_only.port, messages.batch("accept", 3), 1, eopts.timeout)
                    cpu_before, first = cpu_seconds(accept_only.pid), len(messages.sent["accept"])
                    clients = max(eopts.clients)
                    await _case(result, f"{case_label(clients)}, job workers off", accept_only.port,
                                sinks, clients, eopts, messages, "accept", None)
                    per_mail = 1000 * (cpu_seconds(accept_only.pid) - cpu_before) / max(
                        len(messages.sent["accept"]) - first, 1)
                    result.params["accept_only_cpu_ms_per_mail"] = round(per_mail, 1)
                _check_committed(result, work / "data-accept" / "guichet.db", messages.sent["accept"],
                                 "accept_only_")
        except Exception as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}")
        if result.errors:
            result.errors.append(f"app log tail:\n{app.log_tail()}")
    result.notes.append(
        f"{eopts.messages} messages per case and side in {eopts.rounds} alternating rounds; latency = "
        "MAIL FROM to the 250 after DATA; bench-only setting: the per-client rate limit "
        f"(email.rate_limit_messages) raised to {UNLIMITED:,} (still checked at every MAIL)")
    result.notes.append(
        "ours processes a mail once the SMTP sessions pause (at most "
        f"{MAX_WAIT_SECONDS:g} s after its accept; gateway/mail/smtp_pause.py); after each of its rounds "
        "the bench waits until every mail is processed and its reply relayed, before the next round. "
        f"'{END_TO_END_LABEL}': ours's messages / (its rounds' sending + that wait), against the bare "
        "sink's rate")
    if "sent" in result.params:
        result.notes.append(
            f"{result.params['committed_once']} of {result.params['sent']} messages sent to ours are "
            f"committed exactly once; {result.params['processed_when_stopped']} fully processed by the "
            "job workers when the app stopped")
    if "app_cpu_ms_per_mail" in result.params:
        result.notes.append(
            f"CPU of the app process per mail (user + system, from the first timed message until every "
            f"mail was processed and its reply relayed): {result.params['app_cpu_ms_per_mail']} ms; "
            f"the accept alone (job workers off): {result.params.get('accept_only_cpu_ms_per_mail')} ms "
            "(less load-sensitive than the rates)")
    if "accept_only_sent" in result.params:
        result.notes.append(
            "'job workers off': a second app process with jobs.workers = 0 (no parsing, threading or "
            "replies: the SMTP session and the durable accept alone); "
            f"{result.params['accept_only_committed_once']} of {result.params['accept_only_sent']} "
            "committed exactly once")
    for row in result.rows:
        if row.metric == RATE_LABEL and not math.isnan(row.ratio) and "durable" not in row.case:
            met = "met" if row.ratio >= TARGET else "not met"
            result.notes.append(f"{row.case}: {row.ratio:.2f}× the bare sink (target ≥ {TARGET}×: {met})")
        elif row.metric == RATE_LABEL and not math.isnan(row.ratio):
            result.notes.append(f"{row.case}: {row.ratio:.2f}×")
    return result


class Messages:
    """Distinct messages for each side (its own senders and Message-IDs); remembers
    the Message-IDs sent to each Guichet process."""

    def __init__(self) -> None:
        self.counter = 0
        self.sent: dict[str, list[str]] = {"ours": [], "accept": []}

    def batch(self, side: str, count: int) -> list[tuple[str, bytes]]:
        first, self.counter = self.counter, self.counter + count
        if side in self.sent:
            self.sent[side].extend(f"bench-{side}-{first + i}@example.org" for i in range(count))
        return [make_message(side, first + i) for i in range(count)]


async def _case(result: BenchResult, case: str, port: int, sinks: dict[str, int], clients: int,
                eopts: EmailOptions, messages: Messages, side: str, db: Path | None) -> None:
    """One case: ours and the sinks in alternating rounds, the same number of messages
    each.  ``db``: ours's database, to wait after each of its rounds until every mail
    is processed and its reply relayed (None: no job runs, nothing to wait for)."""
    ours, done = SmtpRun(), 0.0
    runs = {name: SmtpRun() for name in sinks}
    for r in range(eopts.rounds):
        share = eopts.messages // eopts.rounds + (r < eopts.messages % eopts.rounds)
        for name, sink_port in sinks.items():
            runs[name].add(await drive(sink_port, messages.batch("raw", share), clients, eopts.timeout))
        started = time.perf_counter()
        ours.add(await drive(port, messages.batch(side, share), clients, eopts.timeout))
        if db is not None:
            if not await _settled(db, len(messages.sent[side]), 4 * eopts.timeout):
                result.errors.append(f"{case}: round {r + 1} not processed within {4 * eopts.timeout:g} s")
            done += time.perf_counter() - started
    ours_summary = Summary.of(ours.latencies, ours.wall)
    for name, run in runs.items():
        label = case if name == "raw" else f"{case}, vs the durable sink"
        theirs = Summary.of(run.latencies, run.wall)
        result.rows += compare(label, ours_summary, theirs, rate_label=RATE_LABEL)
        result.errors += [f"{label} ({name}): {e}" for e in run.errors[:5]]
    if db is not None and done > 0:
        raw = runs["raw"]
        result.rows.append(Row(case, END_TO_END_LABEL, RATE_UNIT, ours.accepted / done,
                               raw.accepted / raw.wall if raw.wall else math.nan, ours.accepted))
    result.errors += [f"{case} (ours): {e}" for e in ours.errors[:5]]


def _check_committed(result: BenchResult, db: Path, sent: list[str], prefix: str) -> None:
    """Every message sent to that process is one ``mail_inbound`` row, no more."""
    rows = committed(db)
    result.params.update({
        f"{prefix}sent": len(sent),
        f"{prefix}committed": sum(rows.get(m, 0) for m in sent),
        f"{prefix}committed_once": sum(1 for m in sent if rows.get(m) == 1),
        f"{prefix}processed_when_stopped": processed(db),
    })
    wrong = [m for m in sent if rows.get(m) != 1]
    if wrong or len(rows) != len(sent):
        result.errors.append(f"{len(wrong)} of {len(sent)} messages not committed exactly once "
                             f"({len(rows)} rows in {db.parent.name}): {wrong[:5]}")


async def run_email(opts: PerfOptions) -> list[BenchResult]:
    return [await bench_email(opts)]


def main(argv: Sequence[str] | None = None) -> None:
    import logging

    parser = argparse.ArgumentParser(prog="python -m bench.email_smtp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sink = sub.add_parser("serve-sink", help="the raw baseline: a bare aiosmtpd server")
    sink.add_argument("--durable", type=Path, default=None,
                      help="append each message to this file and fsync it before the 250")
    app = sub.add_parser("serve-app", help="Guichet with its SMTP listener")
    app.add_argument("--data-dir", type=Path, required=True)
    app.add_argument("--relay-port", type=int, required=True)
    app.add_argument("--workers", type=int, default=None,
                     help="job workers (default: as configured, 2); 0 measures the accept alone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosmtpd's line per SMTP command: Guichet's listener keeps it to warnings
    # (channels/email/smtp_in.py), so the sinks do the same (the same work on both sides)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # both on the loop `guichet serve` runs on (server.event_loop = "auto": uvloop when installed),
    # with its garbage-collector setting (server.gc_threshold)
    gc_tuning.apply(ServerSettings().gc_threshold)
    if args.command == "serve-sink":
        event_loop.run(serve_sink(args.durable))
    else:
        event_loop.run(serve_app(args.data_dir, args.relay_port, args.workers))


if __name__ == "__main__":
    main()
