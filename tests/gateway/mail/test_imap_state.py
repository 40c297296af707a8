"""IMAP positions survive the process, move forward only, and belong to one UIDVALIDITY."""

from __future__ import annotations

from gateway.clock import FakeClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.mail.imap_state import ImapPositions


async def test_positions_are_durable_forward_only_and_per_uidvalidity(migrated: Settings) -> None:
    clock = FakeClock()
    engine = make_engine(migrated.database_url)
    positions = ImapPositions(make_session_factory(engine), clock)
    first = clock.now()
    assert await positions.get("u@h/INBOX") is None

    start = await positions.baseline("u@h/INBOX", 111, 40)
    assert (start.uidvalidity, start.last_uid, start.first_connected_at) == (111, 40, first)

    assert await positions.advance("u@h/INBOX", 111, 41)
    assert not await positions.advance("u@h/INBOX", 111, 39)  # never back
    assert not await positions.advance("u@h/INBOX", 222, 90)  # another UIDVALIDITY: not ours
    assert not await positions.advance("other@h/INBOX", 111, 90)
    clock.advance(minutes=5)
    await positions.mark_synced("u@h/INBOX", 111)
    await engine.dispose()

    # a new process reads what the first one left
    engine = make_engine(migrated.database_url)
    positions = ImapPositions(make_session_factory(engine), clock)
    got = await positions.get("u@h/INBOX")
    assert got is not None and (got.uidvalidity, got.last_uid, got.synced_at) == (111, 41, clock.now())

    clock.advance(hours=1)
    again = await positions.baseline("u@h/INBOX", 222, 3)  # UIDVALIDITY changed: a new baseline
    assert (again.uidvalidity, again.last_uid) == (222, 3)
    assert again.first_connected_at == first  # when the folder was first connected does not move
    assert [p.mailbox for p in await positions.all()] == ["u@h/INBOX"]
    await engine.dispose()
