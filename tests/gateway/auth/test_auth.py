"""Accounts, password hashing, login sessions and the ``guichet user add`` command."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import (
    add_user_arguments,
    add_user_command,
    authenticate,
    create_session,
    create_user,
    delete_session,
    hash_password,
    load_session,
    purge_expired_sessions,
    verify_password,
)
from gateway.auth import passwords as pw
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.tables import Base, SessionRow, User
from gateway.errors import ConflictError, InvalidInputError

PASSWORD = "correct horse battery"

Sessions = async_sessionmaker[AsyncSession]


async def _create_tables(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()


@pytest.fixture
async def db(migrated: Settings) -> AsyncIterator[Sessions]:
    """The migrated schema, on SQLite and on PostgreSQL."""
    engine = make_engine(migrated.database_url)
    yield make_session_factory(engine)
    await engine.dispose()


# ------------------------------------------------------------------ hashing


def test_hash_format_is_self_describing() -> None:
    encoded = hash_password(PASSWORD)
    scheme, n, r, p, salt, key = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32
    assert PASSWORD not in encoded


def test_verify_right_and_wrong_password() -> None:
    encoded = hash_password(PASSWORD)
    assert verify_password(PASSWORD, encoded)
    assert not verify_password("correct horse batterY", encoded)
    assert not verify_password("", encoded)


def test_same_password_gets_different_salts() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)


def test_hash_matches_stdlib_scrypt() -> None:
    _, n, r, p, salt, key = hash_password(PASSWORD).split("$")
    expected = hashlib.scrypt(
        PASSWORD.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    assert base64.b64decode(key) == expected


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain-text-password",
        "bcrypt$x",
        "scrypt$16384$8$1$!!!$abc",
        "scrypt$3$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA$",
    ],
)
def test_damaged_hashes_never_verify(encoded: str) -> None:
    assert not verify_password("plain-text-password", encoded)


# ------------------------------------------------------------------- users


async def test_create_user(db: Sessions) -> None:
    user = await create_user(db, "  Alice ", PASSWORD, "admin", "Alice A.")
    assert (user.name, user.role, user.display_name, user.active) == ("alice", "admin", "Alice A.", True)
    async with db() as session:
        row = await session.scalar(select(User).where(User.id == user.id))
    assert row is not None
    assert row.password_hash.startswith("scrypt$") and PASSWORD not in row.password_hash


async def test_display_name_defaults_to_the_name(db: Sessions) -> None:
    assert (await create_user(db, "bob", PASSWORD, "operator")).display_name == "bob"


@pytest.mark.parametrize(
    ("name", "password", "role", "fragment"),
    [
        ("", PASSWORD, "operator", "user name"),
        ("a b", PASSWORD, "operator", "user name"),
        ("<script>", PASSWORD, "operator", "user name"),
        ("x" * 65, PASSWORD, "operator", "user name"),
        ("carol", PASSWORD, "root", "role"),
        ("carol", "short", "operator", "at least 8"),
        ("carol", "x" * 1025, "operator", "at most"),
    ],
)
async def test_create_user_validation(
    db: Sessions, name: str, password: str, role: str, fragment: str
) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        await create_user(db, name, password, role)
    async with db() as session:
        assert (await session.scalar(select(User.id))) is None


async def test_duplicate_name_is_a_clear_error(db: Sessions) -> None:
    await create_user(db, "alice", PASSWORD, "operator")
    with pytest.raises(ConflictError, match="already exists"):
        await create_user(db, "ALICE", "another password", "admin")


async def test_authenticate(db: Sessions) -> None:
    created = await create_user(db, "alice", PASSWORD, "operator", "Alice")
    assert await authenticate(db, "alice", PASSWORD) == created
    assert await authenticate(db, "Alice ", PASSWORD) == created
    assert await authenticate(db, "alice", PASSWORD + "!") is None
    assert await authenticate(db, "nobody", PASSWORD) is None
    assert await authenticate(db, "", "") is None


async def test_disabled_account_cannot_log_in(db: Sessions) -> None:
    user = await create_user(db, "alice", PASSWORD, "operator")
    async with db() as session:
        await session.execute(update(User).where(User.id == user.id).values(active=False))
        await session.commit()
    assert await authenticate(db, "alice", PASSWORD) is None


async def test_unknown_user_costs_the_same_kdf_work(db: Sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    await create_user(db, "alice", PASSWORD, "operator")
    pw.dummy_hash()  # made once per process, outside any login
    calls: list[int] = []
    real = pw._kdf

    def counting(*args: object) -> bytes:
        calls.append(args[2])  # type: ignore[arg-type]
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pw, "_kdf", counting)
    for name in ("alice", "nobody", "not a valid name!"):
        calls.clear()
        assert await authenticate(db, name, "wrong password") is None
        assert calls == [2**14], name


# ---------------------------------------------------------------- sessions


async def test_session_roundtrip(db: Sessions) -> None:
    clock = FakeClock()
    user = await create_user(db, "alice", PASSWORD, "operator")
    cookie, csrf = await create_session(db, user.id, clock, hours=12)
    assert len(cookie) >= 40 and len(csrf) >= 40 and cookie != csrf
    assert await load_session(db, cookie, clock) == (user, csrf)
    async with db() as session:
        row = await session.scalar(select(SessionRow))
    assert row is not None
    assert row.id == hashlib.sha256(cookie.encode()).hexdigest()  # the cookie itself is not stored


async def test_unknown_cookie(db: Sessions) -> None:
    assert await load_session(db, "no-such-cookie", FakeClock()) is None
    assert await load_session(db, "x" * 5000, FakeClock()) is None


async def test_session_expires_and_is_deleted(db: Sessions) -> None:
    clock = FakeClock()
    user = await create_user(db, "alice", PASSWORD, "operator")
    cookie, _ = await create_session(db, user.id, clock, hours=2)
    clock.advance(hours=1, minutes=59)
    assert await load_session(db, cookie, clock) is not None
    clock.advance(minutes=1)
    assert await load_session(db, cookie, clock) is None
    async with db() as session:
        assert (await session.scalar(select(SessionRow.id))) is None


async def test_delete_session_logs_out(db: Sessions) -> None:
    clock = FakeClock()
    user = await create_user(db, "alice", PASSWORD, "operator")
    cookie, _ = await create_session(db, user.id, clock, hours=12)
    other, _ = await create_session(db, user.id, clock, hours=12)
    await delete_session(db, cookie)
    assert await load_session(db, cookie, clock) is None
    assert await load_session(db, other, clock) is not None  # other devices stay logged in


async def test_purge_expired_sessions(db: Sessions) -> None:
    clock = FakeClock()
    user = await create_user(db, "alice", PASSWORD, "operator")
    await create_session(db, user.id, clock, hours=1)
    fresh, _ = await create_session(db, user.id, clock, hours=24)
    clock.advance(hours=2)
    assert await purge_expired_sessions(db, clock) == 1
    assert await load_session(db, fresh, clock) is not None


# --------------------------------------------------------------------- CLI


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_user_arguments(parser)
    return parser.parse_args(argv)


def _login(settings: Settings, name: str, password: str) -> str | None:
    async def run() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            user = await authenticate(make_session_factory(engine), name, password)
        finally:
            await engine.dispose()
        return user.role if user else None

    return asyncio.run(run())


def test_cli_adds_user_from_stdin(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_create_tables(settings.database_url))
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret password\n"))
    args = _args("dora", "--role", "admin", "--display-name", "Dora", "--password-stdin")
    assert add_user_command(args, settings) == 0
    assert "created admin 'dora'" in capsys.readouterr().out
    assert _login(settings, "dora", "s3cret password") == "admin"


def test_cli_prompts_twice(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(_create_tables(settings.database_url))
    answers = iter(["typed password", "typed password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert add_user_command(_args("erin"), settings) == 0
    assert _login(settings, "erin", "typed password") == "operator"


def test_cli_refuses_mismatched_prompts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_create_tables(settings.database_url))
    answers = iter(["first password", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert add_user_command(_args("erin"), settings) == 1
    assert "do not match" in capsys.readouterr().err
    assert _login(settings, "erin", "first password") is None


def test_cli_reports_duplicates_and_bad_input(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_create_tables(settings.database_url))
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough pw\nlong enough pw\nshort\n"))
    assert add_user_command(_args("finn", "--password-stdin"), settings) == 0
    assert add_user_command(_args("finn", "--password-stdin"), settings) == 1
    assert "already exists" in capsys.readouterr().err
    assert add_user_command(_args("gus", "--password-stdin"), settings) == 1
    assert "at least 8" in capsys.readouterr().err


def test_cli_rejects_unknown_role() -> None:
    with pytest.raises(SystemExit):
        _args("hank", "--role", "root")
