"""The contact log, tags and incidents over the API on the real store: an operator
logs a call and tags a ticket (both audited) and filters the list by tag; an
operator may read incidents but not link, announce or close them (403); a supervisor
does, and the status message goes once to each customer; bad bodies are 400s."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.auth import create_user
from gateway.db.tables_access import AuditEntry
from gateway.web import incidents_api
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.tickets.test_incidents import SIMILAR, STATUS, sent_to, ticket
from tests.gateway.web.conftest import PASSWORD
from tests.gateway.web.desk_client import desk_app, login

__all__ = ["desk"]


def extras_app(desk: Desk) -> web.Application:
    app = desk_app(desk)
    incidents_api.setup(app, desk.store)
    return app


async def test_contacts_tags_and_incidents_through_the_api(desk: Desk, aiohttp_client: Any) -> None:
    desk.settings.incidents.scan_interval = 0
    await create_user(desk.store.sessions, "olga", PASSWORD, "operator", "Olga")
    await create_user(desk.store.sessions, "sam", PASSWORD, "supervisor", "Sam")
    made = {user: await ticket(desk, user, text) for user, text in list(SIMILAR.items())[:3]}
    alice = made["alice"]
    app = extras_app(desk)
    olga = await login(aiohttp_client, app, "olga")

    call = {"outcome": "resolved", "direction": "in", "duration_seconds": 125, "note": "Fixed on the phone"}
    logged = await olga.send("POST", f"/api/desk/tickets/{alice.id}/contacts", call, status=201)
    assert logged["contact"]["outcome"] == "resolved" and logged["contact"]["channel"] == "phone"
    assert [c["id"] for c in (await olga.get(f"/api/desk/tickets/{alice.id}/contacts"))["contacts"]] == [
        logged["contact"]["id"]]
    await olga.send("POST", f"/api/desk/tickets/{alice.id}/contacts", {"outcome": "maybe"}, status=400)
    await olga.send("POST", f"/api/desk/tickets/{alice.id}/contacts",
                    {"outcome": "resolved", "duration_seconds": "long"}, status=400)
    await olga.send("POST", f"/api/desk/tickets/{alice.id}/contacts",
                    {"outcome": "resolved", "at": "yesterday"}, status=400)

    tagged = await olga.send("POST", f"/api/desk/tickets/{alice.id}/tags", {"add": ["Invoice Export"]})
    assert tagged["tags"] == ["invoice-export"]
    assert (await olga.get("/api/desk/tags?q=inv"))["tags"] == [{"tag": "invoice-export", "tickets": 1}]
    listed = await olga.get("/api/desk/tickets?view=all&tag=invoice%20export")
    assert [t["id"] for t in listed["tickets"]] == [alice.id]
    await olga.send("POST", f"/api/desk/tickets/{alice.id}/tags", {"add": "vip"}, status=400)
    assert "complaint" in (await olga.get("/api/desk/categories"))["categories"]

    # Incidents: operators read; supervisors act.
    await olga.send("POST", "/api/desk/incidents/scan", status=403)
    sam = await login(aiohttp_client, app, "sam")
    [incident_id] = (await sam.send("POST", "/api/desk/incidents/scan"))["raised"]
    assert [i["id"] for i in (await olga.get("/api/desk/incidents"))["incidents"]] == [incident_id]
    ids = sorted(t.id for t in made.values())
    await olga.send("POST", f"/api/desk/incidents/{incident_id}/link", {"ticket_ids": ids}, status=403)
    await olga.send("POST", f"/api/desk/incidents/{incident_id}/announce", {"text": STATUS}, status=403)
    await sam.send("POST", f"/api/desk/incidents/{incident_id}/link", {"ticket_ids": "all"}, status=400)
    linked = await sam.send("POST", f"/api/desk/incidents/{incident_id}/link", {"ticket_ids": ids})
    assert linked["incident"]["linked"] == 3
    first = await sam.send("POST", f"/api/desk/incidents/{incident_id}/announce", {"text": STATUS})
    second = await sam.send("POST", f"/api/desk/incidents/{incident_id}/announce", {"text": STATUS})
    assert len(first["sent"]) == 3 and second["sent"] == [] and len(second["already"]) == 3
    await desk.runner.run_once()
    assert [sent_to(desk, user) for user in made] == [1, 1, 1]
    await olga.send("POST", f"/api/desk/incidents/{incident_id}/close", status=403)
    closed = await sam.send("POST", f"/api/desk/incidents/{incident_id}/close")
    assert closed["incident"]["status"] == "closed"
    await sam.send("POST", f"/api/desk/incidents/{incident_id}/close", status=409)
    await olga.get("/api/desk/incidents/999999", status=404)

    async with desk.store.read() as tx:
        audit = set((await tx.session.execute(select(AuditEntry.action, AuditEntry.subject_id))).all())
    assert {("ticket.contact", str(alice.id)), ("ticket.tags", str(alice.id)),
            ("incident.link", str(incident_id)), ("incident.announce", str(incident_id)),
            ("incident.close", str(incident_id))} <= audit
