"""What the console's desk tools read besides /api/desk: the colleagues a ticket can be
given to (presence, load), the console page telling its script the desk is there, and
the desk's words in both languages."""

from __future__ import annotations

import re
from typing import Any

from gateway.audit import Actor
from gateway.auth import create_user, set_active
from gateway.tickets.sweeper import sweep_once
from gateway.web.desk_words import DESK_WORDS
from tests.gateway.tickets.fixtures import Desk, desk
from tests.gateway.web.conftest import PASSWORD
from tests.gateway.web.desk_client import desk_app, login

__all__ = ["desk"]


async def test_operators_see_their_colleagues_with_presence_and_load(desk: Desk, aiohttp_client: Any) -> None:
    db = desk.store.sessions
    olga = await create_user(db, "olga", PASSWORD, "operator", "Olga")
    paul = await create_user(db, "paul", PASSWORD, "operator", "Paul")
    gone = await create_user(db, "gone", PASSWORD, "operator", "Gone")
    await set_active(db, gone.id, False, actor=Actor.system("test"))
    app = desk_app(desk)
    client = await login(aiohttp_client, app, "olga")
    ticket = await desk.handoff(user="zoe")
    await sweep_once(desk.store)
    await client.send("POST", f"/api/desk/tickets/{ticket.id}/assign", {"user_id": paul.id})
    await client.send("POST", "/api/desk/presence", {"present": True})

    data = await client.get("/api/desk/operators")
    people = {o["name"]: o for o in data["operators"]}
    assert set(people) == {"Olga", "Paul"}  # the deactivated account is not offered
    assert data["operators"][0]["name"] == "Olga"  # present first
    assert people["Olga"] == {"id": olga.id, "name": "Olga", "role": "operator", "present": True,
                              "capacity": desk.settings.tickets.default_capacity, "holding": 0}
    assert people["Paul"]["present"] is False and people["Paul"]["holding"] == 1
    assert data["me"] == olga.id

    anonymous = await aiohttp_client(app)
    assert (await anonymous.get("/api/desk/operators")).status == 401


async def test_the_console_page_turns_the_desk_on_only_with_its_api(desk: Desk, aiohttp_client: Any) -> None:
    await create_user(desk.store.sessions, "olga", PASSWORD, "operator", "Olga")
    client = await login(aiohttp_client, desk_app(desk), "olga")
    page = await (await client.client.get("/console")).text()
    assert re.search(r'<meta name="desk-api" content="1">', page)
    assert 'id="desk-views"' in page and "SLA breached or at risk" in page


def test_every_desk_word_exists_in_both_languages() -> None:
    assert set(DESK_WORDS) == {"en", "fr"}
    assert set(DESK_WORDS["en"]) == set(DESK_WORDS["fr"])
    for lang, table in DESK_WORDS.items():
        for key, text in table.items():
            assert text.strip(), (lang, key)
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", DESK_WORDS["en"][key]))
