"""``guichet user …`` and ``guichet token …``: accounts and API tokens from the
command line (recorded in the audit log as done by ``cli:<login>``).

::

    guichet user list
    guichet user add NAME [--role operator|supervisor|admin] [--display-name X] [--password-stdin]
    guichet user deactivate NAME | activate NAME
    guichet user reset-password NAME [--password-stdin]
    guichet user role NAME operator|supervisor|admin
    guichet token create NAME --user LOGIN --scope tickets:read [--scope …] [--days N]
    guichet token list
    guichet token revoke ID

The database schema must exist (``gateway.cli`` runs the migrations first).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TextIO, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import Actor
from gateway.auth.roles import ROLES, SCOPES
from gateway.auth.tokens import create_token, list_tokens, revoke_token
from gateway.auth.users import change_role, create_user, list_users, reset_password, set_active
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.errors import GuichetError

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]


def add_user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="login name (case-insensitive)")
    parser.add_argument("--role", choices=ROLES, default="operator", help="default: operator")
    parser.add_argument("--display-name", default="", help="name shown to colleagues")
    _password_stdin(parser)


def _password_stdin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )


def add_user_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The sub-commands of ``guichet user``."""
    sub.add_parser("list", help="every account with its role and state")
    add_user_arguments(sub.add_parser("add", help="create an account"))
    for verb, text in (("deactivate", "log out and lock an account (its tokens stop)"),
                       ("activate", "unlock a deactivated account")):
        sub.add_parser(verb, help=text).add_argument("name")
    reset = sub.add_parser("reset-password", help="set a new password; open sessions end")
    reset.add_argument("name")
    _password_stdin(reset)
    role = sub.add_parser("role", help="change an account's role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)


def add_token_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The sub-commands of ``guichet token``."""
    create = sub.add_parser("create", help="create a scoped API token (shown once)")
    create.add_argument("name", help="what the token is for, e.g. 'CRM sync'")
    create.add_argument("--user", required=True, help="the account the token acts for")
    create.add_argument("--scope", action="append", choices=SCOPES, required=True,
                        help="a permission the token has (repeat for several)")
    create.add_argument("--days", type=int, default=0, help="expires after this many days (0: never)")
    sub.add_parser("list", help="every token (never the secret)")
    sub.add_parser("revoke", help="revoke a token at once").add_argument("id", type=int)


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str | None:
    """The new password, or None (with a message on stderr) if the prompts differ."""
    if from_stdin:
        line = (stdin or sys.stdin).readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password (again): ")
    if first != second:
        print("error: the passwords do not match", file=sys.stderr)
        return None
    return first


def _run(settings: Settings, work: Callable[[Sessions], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        try:
            return await work(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _report(settings: Settings, work: Callable[[Sessions], Awaitable[str]]) -> int:
    try:
        message = _run(settings, work)
    except GuichetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


def add_user_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``guichet user add``; returns the process exit code."""
    password = read_password(bool(args.password_stdin))
    if password is None:
        return 1

    async def work(sessions: Sessions) -> str:
        user = await create_user(sessions, args.name, password, args.role, args.display_name,
                                 actor=Actor.cli())
        return f"created {user.role} {user.name!r} (id {user.id})"

    return _report(settings, work)


async def _list_users(sessions: Sessions) -> str:
    users = await list_users(sessions)
    lines = [f"{'id':>4}  {'name':<24} {'role':<11} {'state':<12} display name"]
    for u in users:
        state = "active" if u.active else "deactivated"
        lines.append(f"{u.id:>4}  {u.name:<24} {u.role:<11} {state:<12} {u.display_name}")
    return "\n".join(lines)


def run_user_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``guichet user …``; returns the process exit code."""
    command, actor, clock = args.user_command, Actor.cli(), SystemClock()
    if command == "list":
        return _report(settings, _list_users)
    if command == "add":
        return add_user_command(args, settings)
    if command in ("deactivate", "activate"):
        active = command == "activate"

        async def toggle(sessions: Sessions) -> str:
            user = await set_active(sessions, args.name, active, actor=actor, clock=clock)
            return f"{user.name!r} is {'active' if user.active else 'deactivated'}"

        return _report(settings, toggle)
    if command == "reset-password":
        password = read_password(bool(args.password_stdin))
        if password is None:
            return 1

        async def reset(sessions: Sessions) -> str:
            user = await reset_password(sessions, args.name, password, actor=actor, clock=clock)
            return f"new password set for {user.name!r}; their sessions ended"

        return _report(settings, reset)
    if command == "role":

        async def role(sessions: Sessions) -> str:
            user = await change_role(sessions, args.name, args.role, actor=actor, clock=clock)
            return f"{user.name!r} is now {user.role}"

        return _report(settings, role)
    return 2


def run_token_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``guichet token …``; returns the process exit code."""
    actor, clock, command = Actor.cli(), SystemClock(), str(args.token_command)
    if command == "create":
        expires = clock.now() + timedelta(days=args.days) if args.days > 0 else None

        async def create(sessions: Sessions) -> str:
            token, view = await create_token(sessions, args.name, args.user, args.scope, actor=actor,
                                             clock=clock, expires_at=expires)
            return (f"token {view.id} for {view.user_name!r}, scopes {', '.join(view.scopes)}\n"
                    f"{token}\n(shown once: store it now)")

        return _report(settings, create)
    if command == "list":

        async def show(sessions: Sessions) -> str:
            lines = []
            for t in await list_tokens(sessions):
                state = "revoked" if t.revoked_at else (f"expires {t.expires_at:%Y-%m-%d}" if t.expires_at
                                                        else "active")
                lines.append(f"{t.id:>4}  {t.prefix}…  {t.name!r} for {t.user_name}: "
                             f"{', '.join(t.scopes)} ({state})")
            return "\n".join(lines) or "no API tokens"

        return _report(settings, show)
    if command == "revoke":

        async def revoke(sessions: Sessions) -> str:
            view = await revoke_token(sessions, args.id, actor=actor, clock=clock)
            return f"token {view.id} ({view.name!r}) is revoked"

        return _report(settings, revoke)
    return 2
