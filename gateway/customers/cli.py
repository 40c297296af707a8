"""``guichet customer show|find|export|erase|merge``: customers from the command line,
for GDPR requests (recorded in the audit log as done by ``cli:<login>``).

::

    guichet customer find TEXT
    guichet customer show ID
    guichet customer export ID [-o FILE]      # JSON, everything stored about the customer
    guichet customer erase ID --yes           # messages, identities, attachments, personal fields
    guichet customer merge TARGET SOURCE      # SOURCE's identities and conversations go to TARGET
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import Actor
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.customers.service import (
    customer_detail,
    erase_customer,
    export_customer,
    find_customers,
    merge_customers,
)
from gateway.db.engine import make_engine, make_session_factory
from gateway.errors import GuichetError

Sessions = async_sessionmaker[AsyncSession]


def add_customer_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("find", help="customers whose name or address contains TEXT").add_argument("text")
    sub.add_parser("show", help="a customer, identities and conversations").add_argument("id", type=int)
    export = sub.add_parser("export", help="GDPR export: everything stored about a customer, as JSON")
    export.add_argument("id", type=int)
    export.add_argument("-o", "--output", help="write to this file (default: standard output)")
    erase = sub.add_parser("erase", help="GDPR erasure: remove the customer's personal data")
    erase.add_argument("id", type=int)
    erase.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")
    merge = sub.add_parser("merge", help="merge customer SOURCE into TARGET")
    merge.add_argument("target", type=int)
    merge.add_argument("source", type=int)


def _run(settings: Settings, work: Callable[[Sessions], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        try:
            return await work(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def run_customer_command(args: argparse.Namespace, settings: Settings) -> int:
    actor, clock, command = Actor.cli(), SystemClock(), args.customer_command
    if command == "erase" and not args.yes:
        print(f"error: erasing customer {args.id} cannot be undone; add --yes", file=sys.stderr)
        return 1
    work: dict[str, Callable[[Sessions], Awaitable[Any]]] = {
        "find": lambda s: find_customers(s, args.text),
        "show": lambda s: customer_detail(s, args.id),
        "export": lambda s: export_customer(s, args.id, actor=actor, clock=clock),
        "erase": lambda s: erase_customer(s, args.id, actor=actor, clock=clock),
        "merge": lambda s: merge_customers(s, args.target, args.source, actor=actor, clock=clock),
    }
    try:
        result = _run(settings, work[command])
    except GuichetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if command == "export" and args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"customer {args.id} exported to {args.output}")
    elif command == "erase":
        removed = ", ".join(f"{n} {table}" for table, n in sorted(result.items()) if n) or "nothing"
        print(f"customer {args.id} erased: removed {removed}")
    else:
        print(text)
    return 0
