"""Property-based tests of the REST API: schemathesis reads ``/api/openapi.json``
from a real server started here (seeded database, an admin's API token with every
scope) and sends it requests generated from the document; none may get a server
error (5xx)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, assume, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from channels.fake import FakeChannel
from gateway.app import create_app
from gateway.audit import Actor
from gateway.auth import SCOPES, create_token, create_user
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.web import keys
from tests.gateway.conftest import StubRetriever

PASSWORD = "correct horse battery"


@dataclass
class LiveServer:
    """The whole app on a loopback port, in a thread with its own event loop."""

    app: web.Application
    loop: asyncio.AbstractEventLoop
    url: str
    token: str = ""
    token_id: int = 0
    admin_id: int = 0

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)


def start(app: web.Application) -> tuple[asyncio.AbstractEventLoop, web.AppRunner, str, threading.Thread]:
    loop = asyncio.new_event_loop()
    ready: Future[tuple[web.AppRunner, str]] = Future()

    async def serve() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        ready.set_result((runner, f"http://127.0.0.1:{port}"))

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=main, name="api-under-test", daemon=True)
    thread.start()
    runner, url = ready.result(timeout=60)
    return loop, runner, url, thread


async def seed(server: LiveServer, channel: FakeChannel) -> None:
    db, clock = server.app[keys.SESSIONS], SystemClock()
    admin = await create_user(db, "root", PASSWORD, "admin")
    await create_user(db, "olga", PASSWORD, "operator")
    token, view = await create_token(db, "schemathesis", "root", list(SCOPES), actor=Actor.system(),
                                     clock=clock)
    server.token, server.token_id, server.admin_id = token, view.id, admin.id
    await channel.receive("I want to talk to a person", user="alice", message_id="s1")
    await channel.receive("Where is my invoice?", user="bob", message_id="s2")
    for _ in range(200):  # the router hands Alice to a person: a ticket to act on
        if (await server.app[keys.OPERATORS].list_tickets()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the seeded ticket never appeared")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("api")
    s = Settings()
    s.server.data_dir = str(root / "data")
    s.server.secret_key = "test-secret-key"
    s.kb.embedder = "hash"
    s.kb.source_dir = str(root / "kb")
    (root / "kb").mkdir()
    s.jobs.poll_interval = 0.05
    channel = FakeChannel()
    app = create_app(s, retriever=StubRetriever({"invoice": ("invoices", 0.3)}), extra_channels=[channel])
    loop, runner, url, thread = start(app)
    server = LiveServer(app, loop, url)
    server.run(seed(server, channel))
    yield server
    server.run(runner.cleanup())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{live.url}/api/openapi.json",
                                         headers={"Authorization": f"Bearer {live.token}"})


EXAMPLES = 25  # per operation


def test_the_document_is_valid_openapi_and_lists_every_api_route(live: LiveServer, api_schema: Any) -> None:
    document = api_schema.raw_schema
    validate(document)
    listed = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    routes = {(r.method, r.resource.canonical) for r in live.app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith("/api/")
              and r.method not in ("HEAD", "OPTIONS")}
    assert listed == routes
    assert ("POST", "/api/customers/{id}/erase") in listed and ("GET", "/api/tickets") in listed
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["x-permission"], (method, path)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(live: LiveServer, api_schema: Any, mode: GenerationMode) -> None:
    """Every operation of the document, each with generated cases (valid ones, then
    ones that break the schema); the failures of all operations are reported together."""
    auth = {"Authorization": f"Bearer {live.token}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        failure = _first_failure(live, operation, mode, auth, statuses)
        if failure:  # one line per failing operation, then the next one
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert failures == [], "\n\n".join(failures)
    assert statuses[401] == 0  # the token stayed valid: every case reached its handler
    if mode is GenerationMode.POSITIVE:
        assert statuses[200] + statuses[201] > 100, statuses  # not only refusals


def _first_failure(live: LiveServer, operation: Any, mode: GenerationMode, auth: dict[str, str],
                   statuses: Counter[int]) -> str | None:
    """Generated cases of one operation; the first that fails, in words (None: none did).

    A failure is recorded here, not raised to Hypothesis: the API's state moves
    between cases (a ticket taken stays taken), so a replay for shrinking could draw
    differently and hide the failure behind "inconsistent data generation"."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        # Keep the harness's own access: its token and account are not revoked here
        # (the account tests do that); everything else is fair game.
        ident, path = str((case.path_parameters or {}).get("id", "")), case.operation.path
        assume(not (path == "/api/admin/tokens/{id}" and ident == str(live.token_id)))
        assume(not (path.startswith("/api/admin/users/{id}") and ident == str(live.admin_id)))
        try:
            response = case.call(base_url=live.url, headers=auth, timeout=30)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=[not_a_server_error])
        except (Exception, pytest.fail.Exception) as exc:  # schemathesis may fail() a case
            found.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

    try:
        check()
    except Exception as exc:  # the strategy itself failed
        found.append(str(exc)[:600])
    return found[0] if found else None
