"""Plugging the Slack channel into the application (called by the composition
root when ``[slack] enabled``): the channel's records in the store, its HTTP
endpoints or Socket Mode, and the periodic catch-up of the operators' threads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from aiohttp import web

from channels.slack.channel import SlackChannel
from channels.slack.customer_data import PART
from gateway.customers.parts import register
from gateway.flow.store import SqlStore
from gateway.periodic import periodic
from gateway.protocols import Channel


def setup_slack(
    app: web.Application, store: SqlStore, channels: Mapping[str, Channel]
) -> SlackChannel | None:
    """Bind the channel to the store and mount its endpoints (before the app starts)."""
    channel = channels.get("slack")
    if not isinstance(channel, SlackChannel):
        return None
    channel.bind_core(store)
    channel.mount()
    register(PART)  # export and erase (GDPR) cover the Slack tables
    return channel


def slack_catch_up(channel: SlackChannel, store: SqlStore) -> Callable[[Any], AsyncIterator[None]]:
    """The periodic catch-up as a ``cleanup_ctx`` entry (append it after the database's)."""
    operators = channel.operators
    assert operators is not None

    async def catch_up() -> None:
        await operators.catch_up()

    return periodic(
        "Slack operators' threads catch-up",
        lambda: store.settings.slack.sync_interval,
        catch_up,
        task_name="slack-catch-up",
    )
