"""``guichet user add NAME --role operator|admin [--display-name X] [--password-stdin]``.

``gateway.cli`` builds the parser and calls :func:`add_user_arguments` on the
``user add`` sub-parser, then :func:`add_user_command` with the parsed arguments.
The database schema must exist (migrations run first).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TextIO

from gateway.auth.users import ROLES, create_user
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.errors import ConflictError, InvalidInputError


def add_user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="login name (case-insensitive)")
    parser.add_argument("--role", choices=ROLES, default="operator", help="default: operator")
    parser.add_argument("--display-name", default="", help="name shown to colleagues")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )


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


async def _add_user(settings: Settings, name: str, password: str, role: str, display: str) -> str:
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    try:
        user = await create_user(make_session_factory(engine), name, password, role, display)
    finally:
        await engine.dispose()
    return f"created {user.role} {user.name!r} (id {user.id})"


def add_user_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``guichet user add``; returns the process exit code."""
    password = read_password(bool(args.password_stdin))
    if password is None:
        return 1
    try:
        message = asyncio.run(
            _add_user(settings, args.name, password, args.role, args.display_name)
        )
    except (InvalidInputError, ConflictError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0
