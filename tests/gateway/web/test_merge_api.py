"""The merge API on the real store: an operator merges a customer's two tickets; two
customers' tickets are refused (409), forcing is refused to an operator (403) and
needs a supervisor with a reason; an email suggestion is accepted by the same merge
by either route (the desk's, the mail room's), by an operator even when the sender is
another customer record; each merge is in the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.auth import create_user
from gateway.db.tables_access import AuditEntry
from gateway.db.tables_mail import MailSuggestion
from gateway.mail.service import MailService
from gateway.web import keys, merge_api
from gateway.web.mail_api import setup_mail_api
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.tickets.test_merge import status, ticket_on
from tests.gateway.web.conftest import PASSWORD
from tests.gateway.web.desk_client import desk_app, login

__all__ = ["desk"]


def merge_app(desk: Desk) -> web.Application:
    app = desk_app(desk)
    merge_api.setup(app, desk.store)
    app[keys.MAIL] = MailService(desk.store, desk.store.settings, desk.store.clock, b"k" * 32)
    setup_mail_api(app)
    return app


async def suggestion(desk: Desk, conversation_id: int, candidate_id: int) -> int:
    """Email's open "possibly the same as" suggestion, as the mail room records it."""
    async with desk.store.tx() as tx:
        row = MailSuggestion(
            conversation_id=conversation_id, candidate_id=candidate_id, status="open", created_at=tx.now()
        )
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def test_merges_through_the_api_with_roles_and_audit(desk: Desk, aiohttp_client: Any) -> None:
    await create_user(desk.store.sessions, "olga", PASSWORD, "operator", "Olga")
    await create_user(desk.store.sessions, "sam", PASSWORD, "supervisor", "Sam")
    a = await ticket_on(desk, "alice", "alice-1", "My invoice is wrong")
    b = await ticket_on(desk, "alice", "alice-2", "My invoice is still wrong")
    c = await ticket_on(desk, "bob", "bob-1", "Same invoice problem")
    d = await ticket_on(desk, "alice", "alice-3", "And the receipt")
    app = merge_app(desk)
    olga = await login(aiohttp_client, app, "olga")

    done = await olga.send("POST", f"/api/desk/tickets/{b.id}/merge", {"into": a.id, "reason": "duplicate"})
    assert done["merge"]["target_ticket_id"] == a.id and done["merge"]["moved_messages"] >= 2
    assert (await olga.get(f"/api/desk/tickets/{b.id}/merges"))["merged_into"]["target_number"] == a.number
    assert (await status(desk, b.id)).value == "closed"
    refused = await olga.send("POST", f"/api/desk/tickets/{c.id}/merge", {"into": a.id}, status=409)
    assert "two different customers" in refused["message"]
    await olga.send("POST", f"/api/desk/tickets/{c.id}/merge", {"into": a.id, "force": True, "reason": "x"},
                    status=403)
    await olga.send("POST", f"/api/desk/tickets/{c.id}/merge", {"into": "G-1"}, status=400)
    wrong_type = {"into": a.id, "force": "yes"}
    typo = await olga.send("POST", f"/api/desk/tickets/{c.id}/merge", wrong_type, status=400)
    assert typo["error"] == "invalid_force"  # never read as a decision to force
    unforced = {"into": a.id, "force": None, "reason": None}  # null: the defaults, not forced
    await olga.send("POST", f"/api/desk/tickets/{c.id}/merge", unforced, status=409)

    sam = await login(aiohttp_client, app, "sam")
    await sam.send("POST", f"/api/desk/tickets/{c.id}/merge", {"into": a.id, "force": True}, status=400)
    forced = await sam.send("POST", f"/api/desk/tickets/{c.id}/merge",
                            {"into": a.id, "force": True, "reason": "same company account"})
    assert forced["merge"]["forced"] is True

    sid = await suggestion(desk, d.conversation_id, a.conversation_id)
    accepted = await olga.send("POST", f"/api/desk/merge-suggestions/{sid}/accept")
    assert accepted["merge"]["suggestion_id"] == sid and accepted["merge"]["source_ticket_id"] == d.id
    await olga.send("POST", f"/api/desk/merge-suggestions/{sid}/accept", status=409)

    # the mail room's route performs the same merge: bob's mail suggested beside
    # alice's ticket, accepted by an operator (no force) as her decision about that mail
    e = await ticket_on(desk, "bob", "bob-2", "Is this about my invoice?")
    sid2 = await suggestion(desk, e.conversation_id, a.conversation_id)
    via_mail = await olga.send("POST", f"/api/mail/suggestions/{sid2}/accept")
    assert via_mail["suggestion"]["status"] == "accepted"
    assert via_mail["merge"]["suggestion_id"] == sid2 and via_mail["merge"]["source_ticket_id"] == e.id
    assert via_mail["merge"]["two_customers"] is True and via_mail["merge"]["forced"] is False
    assert (await status(desk, e.id)).value == "closed"
    await olga.send("POST", f"/api/desk/merge-suggestions/{sid2}/accept", status=409)

    async with desk.store.read() as tx:
        audit = (await tx.session.execute(select(AuditEntry.action, AuditEntry.subject_id))).all()
    assert ("ticket.merge", str(b.id)) in audit and ("ticket.merge", str(c.id)) in audit
    assert ("mail.suggestion.merge", str(sid)) in audit
    assert ("mail.suggestion.merge", str(sid2)) in audit
