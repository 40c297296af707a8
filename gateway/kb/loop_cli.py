"""``guichet kb gaps [--days N] [--json] [--vectors auto|tfidf|embedder]``: the
questions the bot could not settle, clustered by topic, biggest first."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.kb.gaps import GapReport
from gateway.kb.gaps_report import DEFAULT_DAYS, build_gaps
from gateway.kb.vectors import EmbedderVectorizer, TfidfVectorizer, Vectorizer


def add_gaps_command(subparsers: Any) -> None:
    p = subparsers.add_parser("gaps", help="cluster the questions the bot could not settle (KB gaps)")
    p.add_argument("--days", type=float, default=DEFAULT_DAYS, help=f"time window (default {DEFAULT_DAYS})")
    p.add_argument("--limit", type=int, default=20, help="number of clusters shown (default 20)")
    p.add_argument("--vectors", choices=("auto", "tfidf", "embedder"), default="auto",
                   help="auto: the KB embedder unless it is the hash one, else TF-IDF")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(kb_command="gaps")


def _vectorizer(choice: str, settings: Settings) -> Vectorizer:
    if choice == "tfidf" or (choice == "auto" and settings.kb.embedder == "hash"):
        return TfidfVectorizer()
    from kb_index.embedder import make_embedder

    return EmbedderVectorizer(make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads))


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def run_gaps(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.db.engine import make_engine, make_session_factory
    from gateway.db.migrate import upgrade

    if not 0 < args.days <= 366:
        Console(stderr=True).print("[red]--days must be from 1 to 366[/]")
        return 2
    upgrade(settings.database_url)

    async def run() -> GapReport:
        engine = make_engine(settings.database_url)
        try:
            return await build_gaps(make_session_factory(engine), _vectorizer(args.vectors, settings),
                                    SystemClock().now(), args.days, args.limit)
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return 0
    out = Console()
    out.print(f"{report.questions} customer questions in the last {args.days:g} days: "
              f"{report.contained} settled by the bot, {report.gaps} not ({report.vectorizer})")
    table = Table(title="KB gaps, biggest first", title_justify="left")
    for name in ("#", "count", "representative question", "languages", "before", "after", "draft"):
        table.add_column(name, justify="right" if name in ("#", "count", "before", "after") else "left")
    for rank, c in enumerate(report.clusters, start=1):
        langs = ", ".join(f"{k} {v}" for k, v in c.languages.items())
        after = _pct(c.containment.after) if c.containment.split_at else "—"
        table.add_row(str(rank), str(c.count), escape(c.representative), langs,
                      _pct(c.containment.before), after, escape(c.draft_title))
    out.print(table)
    return 0
