"""Account management (list, create, deactivate, reset a password, change a role),
API tokens, and the audit entries they leave; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import Actor, list_entries
from gateway.auth import (
    authenticate,
    authenticate_token,
    change_role,
    create_session,
    create_token,
    create_user,
    list_tokens,
    list_users,
    load_session,
    reset_password,
    revoke_token,
    set_active,
)
from gateway.auth.roles import AUDIT_READ, AUTHENTICATED, KB_ADMIN, TICKETS_READ, TICKETS_WRITE
from gateway.cli import main
from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.tables import SessionRow
from gateway.errors import ConflictError, InvalidInputError, NotFoundError

PASSWORD = "correct horse battery"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[Sessions]:
    engine = make_engine(migrated.database_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


ROOT = Actor("user", 1, "root", remote="127.0.0.1")


async def test_lifecycle_of_an_account_with_its_audit_trail(sessions: Sessions, clock: FakeClock) -> None:
    root = await create_user(sessions, "root", PASSWORD, "admin", actor=Actor.cli("ops"), clock=clock)
    olga = await create_user(sessions, "Olga", PASSWORD, "operator", "Olga K.", actor=ROOT, clock=clock)
    assert [(u.name, u.role, u.active) for u in await list_users(sessions)] == [
        ("olga", "operator", True), ("root", "admin", True)]
    cookie, _ = await create_session(sessions, olga.id, clock, 12)

    promoted = await change_role(sessions, "olga", "supervisor", actor=ROOT, clock=clock)
    assert promoted.role == "supervisor"
    loaded = await load_session(sessions, cookie, clock)
    assert loaded is not None and loaded[0].role == "supervisor"  # applies at the next request

    await set_active(sessions, olga.id, False, actor=ROOT, clock=clock)
    assert await load_session(sessions, cookie, clock) is None  # logged out at once
    assert await authenticate(sessions, "olga", PASSWORD) is None
    await set_active(sessions, "olga", True, actor=ROOT, clock=clock)
    assert await authenticate(sessions, "olga", PASSWORD) is not None

    cookie, _ = await create_session(sessions, olga.id, clock, 12)
    await reset_password(sessions, "olga", "a brand new password", actor=ROOT, clock=clock)
    assert await load_session(sessions, cookie, clock) is None  # sessions ended
    assert await authenticate(sessions, "olga", PASSWORD) is None
    assert await authenticate(sessions, "olga", "a brand new password") is not None

    entries = await list_entries(sessions, subject_type="user", subject_id=olga.id)
    assert [e.action for e in reversed(entries)] == [
        "user.create", "user.role", "user.deactivate", "user.activate", "user.password_reset"]
    role = next(e for e in entries if e.action == "user.role")
    assert (role.before or {})["role"] == "operator" and (role.after or {})["role"] == "supervisor"
    who = ("user", "root", "127.0.0.1", clock.now())
    assert (role.actor_kind, role.actor_name, role.remote, role.at) == who
    reset = entries[0]
    assert "password_hash" not in json.dumps([reset.before, reset.after])  # never the hash
    created = await list_entries(sessions, subject_type="user", subject_id=root.id)
    assert (created[0].actor_kind, created[0].actor_name) == ("cli", "ops")


async def test_the_last_admin_cannot_be_demoted_or_deactivated(sessions: Sessions, clock: FakeClock) -> None:
    await create_user(sessions, "root", PASSWORD, "admin", clock=clock)
    with pytest.raises(ConflictError, match="last active admin"):
        await change_role(sessions, "root", "operator", actor=ROOT, clock=clock)
    with pytest.raises(ConflictError, match="last active admin"):
        await set_active(sessions, "root", False, actor=ROOT, clock=clock)
    await create_user(sessions, "second", PASSWORD, "admin", clock=clock)
    assert (await change_role(sessions, "root", "operator", actor=ROOT, clock=clock)).role == "operator"
    with pytest.raises(InvalidInputError):
        await change_role(sessions, "root", "superuser", actor=ROOT, clock=clock)
    with pytest.raises(InvalidInputError):
        await reset_password(sessions, "root", "short", actor=ROOT, clock=clock)
    with pytest.raises(NotFoundError):
        await set_active(sessions, "nobody", False, actor=ROOT, clock=clock)


async def test_tokens_act_within_scopes_and_role_until_revoked(sessions: Sessions, clock: FakeClock) -> None:
    await create_user(sessions, "root", PASSWORD, "admin", clock=clock)
    bot = await create_user(sessions, "crm-bot", PASSWORD, "supervisor", clock=clock)
    secret, view = await create_token(sessions, "CRM sync", "crm-bot", [TICKETS_READ, AUDIT_READ],
                                      actor=ROOT, clock=clock)
    assert secret.startswith("gch_") and secret[:10] == view.prefix
    stored = json.dumps([t.to_dict() for t in await list_tokens(sessions)])
    assert secret not in stored  # only its hash is kept
    found = await authenticate_token(sessions, secret, clock)
    assert found is not None and found.user.id == bot.id
    assert found.permissions == {AUTHENTICATED, TICKETS_READ, AUDIT_READ}
    assert (await list_tokens(sessions))[0].last_used_at == clock.now()

    # an operator has no audit:read: the token loses it with its owner's role
    await change_role(sessions, "crm-bot", "operator", actor=ROOT, clock=clock)
    found = await authenticate_token(sessions, secret, clock)
    assert found is not None and found.permissions == {AUTHENTICATED, TICKETS_READ}

    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert await authenticate_token(sessions, tampered, clock) is None
    assert await authenticate_token(sessions, "not a token", clock) is None
    await set_active(sessions, "crm-bot", False, actor=ROOT, clock=clock)
    assert await authenticate_token(sessions, secret, clock) is None  # its account is deactivated
    await set_active(sessions, "crm-bot", True, actor=ROOT, clock=clock)
    await revoke_token(sessions, view.id, actor=ROOT, clock=clock)
    assert await authenticate_token(sessions, secret, clock) is None
    await revoke_token(sessions, view.id, actor=ROOT, clock=clock)  # idempotent: one entry
    actions = [e.action for e in await list_entries(sessions, subject_type="api_token")]
    assert actions == ["token.revoke", "token.create"]


async def test_tokens_expire_and_cannot_exceed_their_owners_role(
    sessions: Sessions, clock: FakeClock
) -> None:
    await create_user(sessions, "olga", PASSWORD, "operator", clock=clock)
    with pytest.raises(InvalidInputError, match="cannot have scope"):
        await create_token(sessions, "too much", "olga", [KB_ADMIN], actor=ROOT, clock=clock)
    with pytest.raises(InvalidInputError, match="unknown scope"):
        await create_token(sessions, "typo", "olga", ["tickets:everything"], actor=ROOT, clock=clock)
    with pytest.raises(InvalidInputError, match="at least one scope"):
        await create_token(sessions, "none", "olga", [], actor=ROOT, clock=clock)
    secret, _ = await create_token(sessions, "day pass", "olga", [TICKETS_WRITE], actor=ROOT, clock=clock,
                                   expires_at=clock.now() + timedelta(days=1))
    assert await authenticate_token(sessions, secret, clock) is not None
    clock.advance(days=1)
    assert await authenticate_token(sessions, secret, clock) is None
    with pytest.raises(InvalidInputError, match="past"):
        await create_token(sessions, "late", "olga", [TICKETS_WRITE], actor=ROOT, clock=clock,
                           expires_at=clock.now())
    earlier = await authenticate_token(sessions, secret, FakeClock())  # before expiry
    assert earlier is not None and earlier.permissions == {AUTHENTICATED, TICKETS_WRITE}


def test_user_and_token_commands(migrated: Settings, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    config = tmp_path / "guichet.toml"  # type: ignore[operator]
    config.write_text(f'[server]\ndata_dir = "{migrated.server.data_dir}"\nsecret_key = "k"\n'
                      f'[database]\nurl = "{migrated.database_url}"\n')

    def run(*argv: str, stdin: str = "") -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--config", str(config), *argv])
        out = capsys.readouterr()
        return code, out.out + out.err

    assert run("user", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    assert run("user", "add", "olga", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    assert run("user", "role", "olga", "supervisor") == (0, "'olga' is now supervisor\n")
    assert run("user", "deactivate", "olga")[0] == 0
    code, listing = run("user", "list")
    assert code == 0 and "olga" in listing and "supervisor  deactivated" in listing
    assert run("user", "activate", "olga")[0] == 0
    assert run("user", "reset-password", "olga", "--password-stdin", stdin="another password\n")[0] == 0
    code, text = run("user", "role", "root", "operator")
    assert code == 1 and "last active admin" in text
    code, text = run("token", "create", "CRM", "--user", "olga", "--scope", "tickets:read", "--days", "30")
    assert code == 0
    secret = next(line for line in text.splitlines() if line.startswith("gch_"))
    code, listing = run("token", "list")
    assert secret[:10] in listing and secret not in listing
    assert run("token", "revoke", "1")[0] == 0
    assert "(revoked)" in run("token", "list")[1]

    async def audit() -> list[str]:
        engine = make_engine(migrated.database_url)
        try:
            entries = await list_entries(make_session_factory(engine), limit=50)
            async with make_session_factory(engine)() as session:
                assert await session.scalar(select(func.count()).select_from(SessionRow)) == 0
            return [f"{e.actor_kind}:{e.action}" for e in reversed(entries)]
        finally:
            await engine.dispose()

    assert asyncio.run(audit()) == [
        "cli:user.create", "cli:user.create", "cli:user.role", "cli:user.deactivate", "cli:user.activate",
        "cli:user.password_reset", "cli:token.create", "cli:token.revoke"]
