"""The mail inspection API and the quarantine (API, page, CLI): who may use them,
what they show, release and delete."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.auth import create_user
from gateway.db.tables_mail import MailInbound
from gateway.tickets.operators import SqlOperatorService
from gateway.web import keys
from gateway.web.console import make_jinja_env, setup_console
from gateway.web.mail_api import setup_mail_api
from gateway.web.quarantine_admin import setup_quarantine_admin
from tests.gateway.web.conftest import PASSWORD, csrf_in
from tests.support.mail_core import MailCore, make_mail

ROOT = Path(__file__).resolve().parents[3]
GARBAGE = b"\x00\xff<script>alert(1)</script>\r\n\r\n\xc3\x28"


def mail_app(mc: MailCore) -> web.Application:
    app = web.Application()
    app[keys.SETTINGS] = mc.settings
    app[keys.CLOCK] = mc.clock
    app[keys.BUS] = mc.store.bus
    app[keys.SESSIONS] = mc.store.sessions
    app[keys.JINJA] = make_jinja_env()
    app[keys.SECRET] = b"test-secret"
    app[keys.MAIL] = mc.mail
    app[keys.OPERATORS] = SqlOperatorService(mc.store)
    setup_console(app)
    setup_mail_api(app)
    setup_quarantine_admin(app)
    return app


async def login(client: Any, name: str) -> str:
    form = await client.get("/console/login")
    data = {"csrf_token": csrf_in(await form.text(), "csrf_token"), "username": name, "password": PASSWORD}
    assert (await client.post("/console/login", data=data, allow_redirects=False)).status == 302
    return csrf_in(await (await client.get("/console")).text(), "csrf-token")


async def quarantined(mc: MailCore) -> list[MailInbound]:
    async with mc.store.read() as tx:
        stmt = select(MailInbound).where(MailInbound.status == "quarantined").order_by(MailInbound.id)
        return list((await tx.session.execute(stmt)).scalars())


async def test_operators_inspect_mail_admins_manage_the_quarantine(mc: MailCore, aiohttp_client: Any) -> None:
    await create_user(mc.store.sessions, "olga", PASSWORD, "operator", "Olga")
    await create_user(mc.store.sessions, "adam", PASSWORD, "admin", "Adam")
    await mc.receive(make_mail("password help", message_id="api-1@example.org"))
    bad = await mc.receive(GARBAGE)
    app = mail_app(mc)

    anonymous = await aiohttp_client(app)
    assert (await anonymous.get("/api/mail/inbound")).status == 401

    olga = await aiohttp_client(app)
    await login(olga, "olga")
    found = await (await olga.get("/api/mail/inbound", params={"message_id": "<api-1@example.org>"})).json()
    [summary] = found["mails"]
    detail = (await (await olga.get(f"/api/mail/inbound/{summary['id']}")).json())["mail"]
    assert detail["class"] == "customer" and "password help" in detail["clean_text"]
    outs = await (
        await olga.get("/api/mail/outbound", params={"conversation_id": detail["conversation_id"]})
    ).json()
    assert outs["mails"][0]["recipients"][0]["state"] == "sent"
    raw = await olga.get(f"/api/mail/inbound/{summary['id']}/raw")
    assert (
        raw.headers["Content-Disposition"].startswith("attachment") and b"password help" in await raw.read()
    )
    assert (await olga.get("/api/admin/mail/quarantine")).status == 403
    assert (await olga.get("/admin/mail/quarantine")).status == 403

    adam = await aiohttp_client(app)
    csrf = await login(adam, "adam")
    listing = await (await adam.get("/api/admin/mail/quarantine")).json()
    assert [i["id"] for i in listing["items"]] == [bad.inbound_id] and listing["items"][0]["reason"]
    page = await (await adam.get("/admin/mail/quarantine", params={"show": str(bad.inbound_id)})).text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert (await adam.post(f"/api/admin/mail/quarantine/{bad.inbound_id}/release")).status == 403  # no CSRF
    released = await adam.post(
        f"/api/admin/mail/quarantine/{bad.inbound_id}/release", headers={"X-CSRF-Token": csrf}
    )
    assert released.status == 200
    await mc.drain()
    async with mc.store.read() as tx:
        row = await tx.session.get(MailInbound, bad.inbound_id)
        assert row is not None and row.status == "processed" and row.conversation_id is not None
    assert await quarantined(mc) == []
    assert len(mc.sink.messages) == 1  # a released mail gets no automatic reply


def cli(mc: MailCore, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GUICHET_DATABASE_URL": mc.settings.database_url,
        "GUICHET_SERVER_DATA_DIR": mc.settings.server.data_dir,
    }
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "mail", "quarantine", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


async def test_the_quarantine_from_the_command_line(mc: MailCore) -> None:
    first = await mc.receive(GARBAGE)
    second = await mc.receive(GARBAGE + b" other")
    listed = await asyncio.to_thread(cli, mc, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert {i["id"] for i in items} == {first.inbound_id, second.inbound_id} and all(
        i["reason"] for i in items
    )
    shown = await asyncio.to_thread(cli, mc, "show", str(first.inbound_id))
    assert shown.returncode == 0 and "reason" in shown.stdout
    assert (await asyncio.to_thread(cli, mc, "delete", str(second.inbound_id))).returncode == 0
    assert (await asyncio.to_thread(cli, mc, "release", str(first.inbound_id))).returncode == 0
    await mc.drain()
    assert await quarantined(mc) == []
    async with mc.store.read() as tx:
        assert await tx.session.get(MailInbound, second.inbound_id) is None
    missing = await asyncio.to_thread(cli, mc, "delete", str(second.inbound_id))
    assert missing.returncode == 1 and "no quarantined mail" in missing.stderr
