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

    # --- accounts, API tokens, customers (GDPR): gateway.auth, gateway.customers ---
    from gateway.auth.cli import add_token_commands, add_user_commands
    from gateway.customers.cli import add_customer_commands

    user = sub.add_parser("user", help="console accounts: list, add, deactivate, reset-password, role")
    add_user_commands(user.add_subparsers(dest="user_command", required=True))
    token = sub.add_parser("token", help="scoped API tokens: create, list, revoke")
    add_token_commands(token.add_subparsers(dest="token_command", required=True))
    customer = sub.add_parser("customer", help="customers: find, show, GDPR export and erase, merge")
    add_customer_commands(customer.add_subparsers(dest="customer_command", required=True))
    # --- end accounts ---

    kb = sub.add_parser("kb", help="knowledge base: index, search, evaluate")
    from gateway.kb.commands import add_kb_commands

    add_kb_commands(kb.add_subparsers(dest="kb_command", required=True))
    from gateway.flow.jobs_cli import add_jobs_commands

    add_jobs_commands(sub.add_parser("jobs", help="durable jobs: list, show, retry dead ones, purge"))
    # --- email: guichet mail ... (channels/email/cli.py) ---
    from channels.email.cli import add_mail_commands

    add_mail_commands(sub.add_parser("mail", help="email: parse a message as the pipeline would"))
    # --- end of email block ---
    # --- email transport: guichet mail quarantine ... (gateway/mail/cli.py) ---
    from gateway.mail.cli import add_quarantine_commands

    add_quarantine_commands(sub.choices["mail"])
    # --- end of email transport block ---
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
    from gateway.mail.cli import is_quarantine_command, run_quarantine_command

    if is_quarantine_command(args):  # email transport block
        return run_quarantine_command(args, settings)
    if args.command == "mail":  # email block
        from channels.email.cli import run_mail_command

        return run_mail_command(args, settings)
    if args.command in ("user", "token", "customer"):
        return _accounts(args, settings)
    if args.command == "kb":
        from gateway.kb.commands import run_kb_command

        return run_kb_command(args, settings)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _accounts(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.auth.cli import run_token_command, run_user_command
    from gateway.customers.cli import run_customer_command
    from gateway.db.migrate import upgrade

    upgrade(settings.database_url)
    run = {"user": run_user_command, "token": run_token_command, "customer": run_customer_command}
    return run[args.command](args, settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
