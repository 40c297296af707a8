"""``guichet``: serve, migrate the database, manage users, index and evaluate
the knowledge base."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from gateway.config import ConfigError, Settings, load_settings


def build_parser() -> argparse.ArgumentParser:
    """The ``guichet`` command line (also what the tests parse their commands with)."""
    p = argparse.ArgumentParser(prog="guichet", description=__doc__)
    p.add_argument("--config", "-c", help="TOML settings file (default: $GUICHET_CONFIG)")
    p.add_argument("--log-level", default="INFO")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway on the configured host and port")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--index-if-missing",
        action="store_true",
        help="build the knowledge-base index from kb.source_dir first if there is none",
    )

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the migrations")

    user = sub.add_parser("user", help="console accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    from gateway.auth import add_user_arguments

    add_user_arguments(user_sub.add_parser("add", help="create an operator or admin account"))

    kb = sub.add_parser("kb", help="knowledge base: index, search, evaluate")
    from gateway.kb.commands import add_kb_commands

    add_kb_commands(kb.add_subparsers(dest="kb_command", required=True))
    from gateway.flow.jobs_cli import add_jobs_commands

    add_jobs_commands(sub.add_parser("jobs", help="durable jobs: list, show, retry dead ones, purge"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from gateway.serve import serve

        return serve(settings, host=args.host, port=args.port, index_if_missing=args.index_if_missing)
    if args.command == "db":
        from gateway.db.migrate import upgrade

        upgrade(settings.database_url)
        print(f"database at {settings.database_url} is up to date")
        return 0
    if args.command == "jobs":
        from gateway.flow.jobs_cli import run_jobs_command

        return run_jobs_command(args, settings)
    if args.command == "user":
        return _user(args, settings)
    if args.command == "kb":
        from gateway.kb.commands import run_kb_command

        return run_kb_command(args, settings)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _user(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.auth import add_user_command
    from gateway.db.migrate import upgrade

    upgrade(settings.database_url)
    return add_user_command(args, settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
