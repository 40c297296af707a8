"""Satisfaction surveys: asked once when a ticket is resolved, on the customer's own
channel; one answer per survey; a wrong, used or expired link is refused clearly."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from gateway.db.tables_csat import CsatSurvey
from gateway.reports import csat
from gateway.tickets.history import add_change_listener, remove_change_listener
from gateway.views import UserView
from gateway.web import csat_page, keys
from gateway.web.console import make_jinja_env
from tests.gateway.tickets.fixtures import Desk, desk, olga

__all__ = ["desk", "olga"]
LINK = re.compile(r"/csat/([A-Za-z0-9_-]+)")


@pytest.fixture
async def surveys(desk: Desk) -> AsyncIterator[Desk]:
    desk.settings.csat.enabled = True
    desk.runner.handlers[csat.JOB_KIND] = csat.make_ask_job(desk.store)
    add_change_listener(csat.on_ticket_change)
    yield desk
    remove_change_listener(csat.on_ticket_change)


async def resolved_ticket(d: Desk, user: UserView, who: str = "alice") -> tuple[int, int]:
    ticket = await d.handoff(who)
    await d.operators.take_over(ticket.id, user)
    await d.operators.reply(ticket.conversation_id, user, "Here is how to do it.")
    await d.operators.resolve(ticket.id, user)
    d.clock.advance(seconds=2)  # the survey job waits a second: it follows "your ticket is resolved"
    while await d.runner.run_once():
        pass
    return ticket.id, ticket.conversation_id


def links(d: Desk) -> list[str]:
    return [m.group(1) for o in d.channel.sent if (m := LINK.search(o.text))]


async def stored(d: Desk) -> list[CsatSurvey]:
    async with d.store.sessions() as session:
        return list((await session.execute(select(CsatSurvey))).scalars())


async def test_the_customer_is_asked_once_after_resolution_on_their_channel(surveys: Desk,
                                                                            olga: UserView) -> None:
    d = surveys
    ticket_id, _ = await resolved_ticket(d, olga)
    texts = [o.text for o in d.channel.sent]
    asked = [t for t in texts if "/csat/" in t]
    assert len(asked) == 1
    assert texts.index(asked[0]) > next(i for i, t in enumerate(texts) if "resolved" in t)  # after it
    assert "1 to 5" in asked[0] and d.settings.base_url in asked[0]
    token = links(d)[0]
    assert len(token) >= 43  # 32 random bytes
    rows = await stored(d)
    assert [r.ticket_id for r in rows] == [ticket_id]
    assert rows[0].token_hash == csat.token_hash(token) and token not in rows[0].token_hash  # hash only

    # Reopened and resolved again: not asked twice.
    await d.desk.set_status(ticket_id, "open", olga, "the customer wrote again")
    await d.operators.reply((await d.operators.get_ticket(ticket_id)).conversation_id, olga, "Fixed now.")
    await d.operators.resolve(ticket_id, olga)
    d.clock.advance(seconds=2)
    while await d.runner.run_once():
        pass
    assert len(links(d)) == 1 and len(await stored(d)) == 1


async def test_nothing_is_asked_when_surveys_are_off_or_the_bot_takes_back(desk: Desk,
                                                                           olga: UserView) -> None:
    add_change_listener(csat.on_ticket_change)
    desk.runner.handlers[csat.JOB_KIND] = csat.make_ask_job(desk.store)
    try:
        await resolved_ticket(desk, olga)  # csat.enabled is false by default
        assert links(desk) == [] and await stored(desk) == []
        desk.settings.csat.enabled = True
        ticket = await desk.handoff("bob")
        await desk.operators.take_over(ticket.id, olga)
        await desk.operators.hand_back(ticket.conversation_id, olga)
        desk.clock.advance(seconds=2)
        while await desk.runner.run_once():
            pass
        assert links(desk) == [] and await stored(desk) == []
    finally:
        remove_change_listener(csat.on_ticket_change)


async def test_one_answer_per_survey_and_clear_refusals(surveys: Desk, olga: UserView) -> None:
    d = surveys
    await resolved_ticket(d, olga)
    token = links(d)[0]
    view = await csat.lookup(d.store, token)
    assert view.answered_at is None and view.ticket_number.startswith("G-")
    for rating, code in ((0, "invalid_rating"), (6, "invalid_rating"), ("five", "invalid_rating"),
                         (True, "invalid_rating"), (4, "comment_too_long")):
        with pytest.raises(csat.SurveyError) as bad:
            await csat.answer(d.store, token, rating, "x" * (csat.MAX_COMMENT + 1))
        assert (bad.value.status, bad.value.code) == (400, code)
    answered = await csat.answer(d.store, token, "4", "  Quick and kind.  ")
    assert answered.rating == 4
    with pytest.raises(csat.SurveyError) as again:
        await csat.answer(d.store, token, 1)
    assert (again.value.status, again.value.code) == (409, "answered")
    row = (await stored(d))[0]
    assert (row.rating, row.comment) == (4, "Quick and kind.")  # the second answer changed nothing
    for wrong in ("", "x", token[:-1] + ("A" if token[-1] != "A" else "B"), "A" * 300):
        with pytest.raises(csat.SurveyError) as unknown:
            await csat.lookup(d.store, wrong)
        assert unknown.value.status == 404


async def test_an_expired_link_is_refused(surveys: Desk, olga: UserView) -> None:
    d = surveys
    d.settings.csat.expire_days = 2
    await resolved_ticket(d, olga)
    token = links(d)[0]
    d.clock.advance(days=2, seconds=1)
    for attempt in (csat.lookup(d.store, token), csat.answer(d.store, token, 5)):
        with pytest.raises(csat.SurveyError) as expired:
            await attempt
        assert (expired.value.status, expired.value.code) == (410, "expired")
    assert (await stored(d))[0].answered_at is None


def test_tokens_are_random_and_long() -> None:
    tokens = {csat.new_token() for _ in range(200)}
    assert len(tokens) == 200 and min(len(t) for t in tokens) >= 43


# ----------------------------------------------------------------- the page


@pytest.fixture
async def page(surveys: Desk, aiohttp_client: Any) -> TestClient[web.Request, web.Application]:
    app = web.Application()
    app[keys.STORE] = surveys.store
    app[keys.JINJA] = make_jinja_env()
    csat_page.setup(app)
    client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
    return client


async def test_the_public_page_takes_one_answer(surveys: Desk, olga: UserView,
                                                page: TestClient[web.Request, web.Application]) -> None:
    await resolved_ticket(surveys, olga)
    token = links(surveys)[0]
    shown = await page.get(f"/csat/{token}")
    html = await shown.text()
    assert shown.status == 200 and 'name="rating"' in html and "ticket G-" in html
    assert shown.headers["Referrer-Policy"] == "no-referrer"  # the address holds the token
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    sent = await page.post(f"/csat/{token}", data={"rating": "5", "comment": "<b>great</b>"})
    assert sent.status == 200 and "Thank you" in await sent.text()
    again = await page.get(f"/csat/{token}")
    assert again.status == 409 and "already answered" in await again.text()
    twice = await page.post(f"/csat/{token}", json={"rating": 1})
    assert twice.status == 409 and (await twice.json())["error"] == "answered"
    row = (await stored(surveys))[0]
    assert (row.rating, row.comment) == (5, "<b>great</b>")  # stored as typed, escaped when shown


async def test_the_page_refuses_bad_links_and_bad_input(
    surveys: Desk, olga: UserView, page: TestClient[web.Request, web.Application]
) -> None:
    unknown = await page.get("/csat/not-a-real-token")
    assert unknown.status == 404 and "not valid" in await unknown.text()
    french = await page.get("/csat/not-a-real-token", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert french.status == 404 and "pas valide" in await french.text()
    await resolved_ticket(surveys, olga)
    token = links(surveys)[0]
    bad = await page.post(f"/csat/{token}", json={"rating": 9})
    assert bad.status == 400 and (await bad.json())["error"] == "invalid_rating"
    not_json = await page.post(f"/csat/{token}", data=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status == 400
    preflight = await page.options(f"/csat/{token}", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    ok = await page.post(f"/csat/{token}", json={"rating": 3, "comment": "fine"},
                         headers={"Origin": "https://shop.example"})
    assert ok.status == 200 and (await ok.json()) == {"ok": True, "rating": 3}
    assert ok.headers["Access-Control-Allow-Origin"] == "*"  # a widget on the customer's site reads it


async def test_gdpr_export_holds_the_answer_and_erase_removes_the_comment(surveys: Desk,
                                                                          olga: UserView) -> None:
    from gateway.audit import Actor
    from gateway.customers.service import erase_customer, export_customer
    from gateway.db.tables import Conversation

    d = surveys
    _, conversation_id = await resolved_ticket(d, olga)
    token = links(d)[0]
    await csat.answer(d.store, token, 2, "Alice Martin, call me on 06 12 34 56 78")
    async with d.store.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        assert conv is not None
        customer_id = conv.customer_id
    dpo = Actor.system("dpo")
    exported = await export_customer(d.store.sessions, customer_id, actor=dpo, clock=d.clock)
    assert "call me on 06 12 34 56 78" in repr(exported)
    removed = await erase_customer(d.store.sessions, customer_id, actor=dpo, clock=d.clock)
    assert removed["csat_surveys"] == 1
    row = (await stored(d))[0]
    assert (row.rating, row.comment) == (2, "")  # the figure stays, anonymous
    with pytest.raises(csat.SurveyError) as gone:
        await csat.lookup(d.store, token)
    assert gone.value.status == 404
