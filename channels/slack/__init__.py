"""The Slack channel: customers in direct messages and mentions, operators in
channels (docs/slack.md).  Built on ``slack-bolt`` and ``slack-sdk``."""

from channels.slack.channel import SlackChannel, create_channel

__all__ = ["SlackChannel", "create_channel"]
