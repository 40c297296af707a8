"""The desk's API app on the real store (:func:`desk_app`, every ``/api/desk`` route
of :func:`gateway.web.tickets_api.setup`) and a logged-in console client, shared by
the tests of the desk's API modules."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.auth import create_user
from gateway.tickets.desk_services import DeskServices
from gateway.views import UserView
from gateway.web import keys, tickets_api
from gateway.web.console import make_jinja_env, setup_console
from tests.gateway.tickets.fixtures import Desk
from tests.gateway.web.conftest import PASSWORD, csrf_in


def desk_app(desk: Desk) -> web.Application:
    app = web.Application()
    app[keys.SETTINGS] = desk.settings
    app[keys.CLOCK] = desk.clock
    app[keys.BUS] = desk.bus
    app[keys.SESSIONS] = desk.store.sessions
    app[keys.OPERATORS] = desk.operators
    app[keys.JINJA] = make_jinja_env()
    app[keys.SECRET] = b"another-test-secret"
    app[keys.DESK] = DeskServices.on(desk.store)
    setup_console(app)
    tickets_api.setup(app)
    return app


class Client:
    def __init__(self, client: TestClient[Any, Any], csrf: str) -> None:
        self.client, self.headers = client, {"X-CSRF-Token": csrf}

    async def get(self, path: str, status: int = 200) -> Any:
        response = await self.client.get(path)
        assert response.status == status, await response.text()
        return await response.json()

    async def send(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.request(method, path, json=body or {}, headers=self.headers)
        assert response.status == status, await response.text()
        return await response.json()


async def login(aiohttp_client: Any, app: web.Application, name: str) -> Client:
    client = await aiohttp_client(app)
    form = await client.get("/console/login")
    data = {"csrf_token": csrf_in(await form.text(), "csrf_token"), "username": name, "password": PASSWORD}
    assert (await client.post("/console/login", data=data, allow_redirects=False)).status == 302
    return Client(client, csrf_in(await (await client.get("/console")).text(), "csrf-token"))


@pytest.fixture
async def people(desk: Desk) -> dict[str, UserView]:
    """Two operators (olga, paul) and an admin (sue)."""
    return {
        "olga": await create_user(desk.store.sessions, "olga", PASSWORD, "operator", "Olga"),
        "paul": await create_user(desk.store.sessions, "paul", PASSWORD, "operator", "Paul"),
        "sue": await create_user(desk.store.sessions, "sue", PASSWORD, "admin", "Sue"),
    }
