"""Console pages: login, logout, the queue, a ticket's conversation; escaping."""

from __future__ import annotations

import re

from gateway.models import TicketStatus
from gateway.web.security import SESSION_COOKIE
from tests.gateway.web.conftest import PASSWORD, Console, csrf_in, seed, ticket_view

XSS = "<script>alert('x')</script>"


async def test_login_page_has_the_form(console: Console) -> None:
    response = await console.client.get("/console/login")
    assert response.status == 200
    html = await response.text()
    for needle in ('id="username"', 'id="password"', 'type="password"', 'type="submit"'):
        assert needle in html


async def test_bad_login_gives_401_and_the_same_answer_for_unknown_users(console: Console) -> None:
    wrong_password = await console.post_login("alice", "not the password")
    unknown_user = await console.post_login("mallory", "not the password")
    answers = []
    for response in (wrong_password, unknown_user):
        assert response.status == 401
        assert SESSION_COOKIE not in response.cookies
        html = await response.text()
        assert "Wrong user name or password." in html
        assert 'id="password"' in html  # the form again
        answers.append(re.sub(r'value="[^"]*"', "", html))  # drop token and echoed name
    assert answers[0] == answers[1]
    assert (await console.client.get("/api/me")).status == 401


async def test_login_then_queue_shows_open_tickets(console: Console) -> None:
    seed(console.operators, ticket_view(1, subject="Printer on fire"))
    seed(console.operators, ticket_view(2, subject="Already done", status=TicketStatus.RESOLVED))
    response = await console.post_login("alice", PASSWORD)
    assert response.status == 302
    assert response.headers["Location"] == "/console"
    page = await console.client.get("/console")
    html = await page.text()
    assert page.status == 200
    assert 'id="ticket-list"' in html
    row = re.search(r'<tr class="ticket-row[^>]*data-ticket-id="1" data-number="G-0001"', html)
    assert row, html
    assert "G-0001" in html and "Printer on fire" in html
    assert "Already done" not in html
    assert "Alice" in html  # who is logged in
    assert 'id="conn-status"' in html


async def test_user_name_is_case_insensitive(console: Console) -> None:
    assert (await console.post_login("ALICE", PASSWORD)).status == 302


async def test_logged_in_user_visiting_login_goes_to_console(console: Console) -> None:
    await console.login()
    response = await console.client.get("/console/login", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/console"


async def test_logout_ends_the_session(console: Console) -> None:
    csrf = await console.login()
    cookie = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))
    old_value = cookie[SESSION_COOKIE].value
    response = await console.client.post(
        "/console/logout", headers={"X-CSRF-Token": csrf}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == "/console/login"
    assert (await console.client.get("/api/me")).status == 401
    # The old cookie is dead on the server too, not just forgotten by the browser.
    console.client.session.cookie_jar.update_cookies({SESSION_COOKIE: old_value})
    assert (await console.client.get("/api/me")).status == 401


async def test_repeated_failures_are_slowed_down(console: Console) -> None:
    for _ in range(5):
        assert (await console.post_login("alice", "guess guess")).status == 401
    blocked = await console.post_login("alice", PASSWORD)
    assert blocked.status == 429
    assert "Too many failed attempts" in await blocked.text()
    console.clock.advance(minutes=16)
    assert (await console.post_login("alice", PASSWORD)).status == 302


async def test_ticket_page_shows_the_whole_conversation(console: Console) -> None:
    seed(
        console.operators,
        ticket_view(1),
        [
            ("customer", "message", "My password does not work"),
            ("bot", "message", "Have you tried resetting it?"),
            ("system", "event", "Ticket G-0001 created"),
            ("operator", "note", "Customer is a VIP"),
        ],
    )
    await console.login()
    response = await console.client.get("/console/tickets/1")
    assert response.status == 200
    html = await response.text()
    kinds = re.findall(r'class="msg[^"]*"\s+data-author="(\w+)" data-kind="(\w+)"', html)
    assert kinds == [("customer", "message"), ("bot", "message"), ("system", "event"), ("operator", "note")]
    note = html[html.index("Customer is a VIP") - 600 : html.index("Customer is a VIP")]
    assert 'badge-internal">internal<' in note
    assert 'id="ticket-status" class="status">new<' in html
    for button in ("btn-take", "btn-resolve", "btn-handback", "btn-reply", "btn-note"):
        assert f'id="{button}"' in html
    assert 'id="reply-text"' in html and 'id="note-text"' in html


async def test_unknown_ticket_page_is_404(console: Console) -> None:
    await console.login()
    response = await console.client.get("/console/tickets/999")
    assert response.status == 404
    assert "does not exist" in await response.text()


async def test_user_text_is_escaped_in_every_page(console: Console) -> None:
    seed(
        console.operators,
        ticket_view(1, subject=f"Help {XSS}", customer=f"Eve {XSS}"),
        [("customer", "message", f"hi {XSS} <img src=x onerror=alert(1)>"),
         ("operator", "note", f"note {XSS}")],
    )
    await console.login()
    for path in ("/console", "/console/tickets/1"):
        html = await (await console.client.get(path)).text()
        assert "&lt;script&gt;" in html
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    # The user name typed into the login form is echoed back escaped too.
    console.client.session.cookie_jar.clear()
    html = await (await console.post_login(XSS, "whatever1")).text()
    assert "<script>alert" not in html


async def test_html_email_is_sanitised_into_a_sandboxed_frame(console: Console) -> None:
    seed(console.operators, ticket_view(1), [("customer", "message", "see below")])
    cid = 11
    message = console.operators.history[cid][0]
    from dataclasses import replace

    console.operators.history[cid][0] = replace(
        message, html='<p>Hello</p><script>steal()</script><img src=x onerror="steal()">'
    )
    await console.login()
    html = await (await console.client.get("/console/tickets/1")).text()
    frame = re.search(r'<iframe sandbox=""[^>]*srcdoc="([^"]*)"', html)
    assert frame, html
    assert "&lt;p&gt;Hello&lt;/p&gt;" in frame.group(1)
    assert "steal" not in frame.group(1)


async def test_console_page_carries_csrf_token_for_scripts(console: Console) -> None:
    csrf = await console.login()
    html = await (await console.client.get("/console")).text()
    assert csrf_in(html, "csrf-token") == csrf
    assert '<script type="module" src="/console/static/console.js">' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None  # no inline script
