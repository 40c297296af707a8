"""Socket Mode (``slack.mode = "socket"``): the same Bolt app receives Slack's
envelopes over a WebSocket opened with ``connect_async()``; a repeated event is one
message; the HTTP endpoints refuse everything in this mode."""

from __future__ import annotations

from typing import Any

from gateway.config import Settings
from tests.channels.slack.conftest import CAROL, make_site, until
from tests.support.slack_requests import dm
from tests.support.slack_stub import APP_TOKEN, SlackStub


async def test_events_arrive_over_socket_mode_once(
    settings: Settings, stub: SlackStub, aiohttp_client: Any
) -> None:
    site = await make_site(settings, stub, aiohttp_client, mode="socket", app_token=APP_TOKEN)
    await until(lambda: stub.sockets, "the Socket Mode connection")
    event = dm(CAROL, "How do I reset my password?", "1800000600.000001", channel="D0CAROL")
    envelope = site.slack.envelope(event, event_id="EvSOCKET1")
    first = await stub.push(envelope)
    answer = await until(lambda: stub.posted("D0CAROL", "1800000600.000001"), "the answer over Socket Mode")
    assert "reset-password" in answer[0].text
    second = await stub.push(envelope, retry_attempt=1)  # Slack's retry of the same event
    await until(
        lambda: {a["envelope_id"] for a in stub.acks} >= {first, second}, "both envelopes acknowledged"
    )
    assert len(stub.posted("D0CAROL")) == 1
    status, _ = await site.slack.event(event)  # correctly signed, but HTTP is off in Socket Mode
    assert status == 401
