"""The /metrics figures move with what the core does."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.gateway.conftest import Core


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_accepted_duplicate_jobs_and_deliveries_are_counted(core: Core) -> None:
    accepted = value("guichet_messages_accepted_total", channel="fake")
    duplicate = value("guichet_messages_duplicate_total", channel="fake")
    routed = value("guichet_jobs_done_total", kind="route")
    sent = value("guichet_deliveries_total", channel="fake", status="sent")
    await core.channel.receive("reset password", message_id="m-metrics")
    await core.channel.receive("reset password", message_id="m-metrics")
    await core.drain()
    assert value("guichet_messages_accepted_total", channel="fake") == accepted + 1
    assert value("guichet_messages_duplicate_total", channel="fake") == duplicate + 1
    assert value("guichet_jobs_done_total", kind="route") == routed + 1
    assert value("guichet_deliveries_total", channel="fake", status="sent") == sent + 1
