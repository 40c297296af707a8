"""``guichet mail quarantine list|show|release|delete``: the mail quarantine from
the command line (a running server's job workers process a released mail)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway.config import Settings


def add_quarantine_commands(mail_parser: argparse.ArgumentParser) -> None:
    """Adds ``quarantine`` under the ``guichet mail`` parser (its sub-commands exist already)."""
    subs = next(a for a in mail_parser._actions if isinstance(a, argparse._SubParsersAction))
    q = subs.add_parser("quarantine", help="mail that could not be processed: list, show, release, delete")
    q_sub = q.add_subparsers(dest="quarantine_command", required=True)
    listing = q_sub.add_parser("list", help="quarantined mail with its reason")
    listing.add_argument("--json", action="store_true")
    show = q_sub.add_parser("show", help="one quarantined mail, with its raw message")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    for name, text in (
        ("release", "process it again (as a customer's mail, no automatic reply)"),
        ("delete", "delete it and its bytes"),
    ):
        q_sub.add_parser(name, help=text).add_argument("id", type=int)


def is_quarantine_command(args: argparse.Namespace) -> bool:
    return args.command == "mail" and getattr(args, "mail_command", "") == "quarantine"


def run_quarantine_command(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.db.migrate import upgrade

    upgrade(settings.database_url)
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.clock import SystemClock
    from gateway.db.engine import make_engine, make_session_factory
    from gateway.errors import GuichetError
    from gateway.flow.bus import InProcessEventBus
    from gateway.flow.store import SqlStore
    from gateway.mail import quarantine
    from gateway.mail.service import MailService

    engine = make_engine(settings.database_url)
    store = SqlStore(make_session_factory(engine), SystemClock(), settings, InProcessEventBus())
    mail = MailService(store, settings, store.clock, b"")
    command = args.quarantine_command
    try:
        if command == "list":
            items = await quarantine.list_items(mail, limit=1000)
            if args.json:
                _print_json([i.to_dict() for i in items])
            elif not items:
                print("The quarantine is empty.")
            for i in [] if args.json else items:
                print(f"{i.id:>6}  {i.received_at:%Y-%m-%d %H:%M}  {i.from_address or '-':<30}  {i.reason}")
        elif command == "show":
            item, raw = await quarantine.show(mail, args.id)
            if args.json:
                _print_json({**item.to_dict(), "raw": raw.decode("utf-8", "replace")})
            else:
                for key, value in item.to_dict().items():
                    print(f"{key:>12}: {value}")
                print()
                sys.stdout.write(raw.decode("utf-8", "replace"))
        elif command == "release":
            await quarantine.release(mail, args.id)
            print(f"mail {args.id} released: it is processed again by the server's job workers")
        else:
            await quarantine.remove(mail, args.id)
            print(f"mail {args.id} deleted")
    except GuichetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    return 0


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))
