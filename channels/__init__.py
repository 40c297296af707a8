"""Channel adapters.  Each channel is one module or package exposing
``create_channel(ctx: gateway.flow.channel_context.ChannelContext) -> Channel``.

Channels are registered by name (Rasa style); the core loads them by import
path, so it never imports a channel (or its SDK) itself.
"""

REGISTRY: dict[str, str] = {
    "webchat": "channels.webchat:create_channel",
    "fake": "channels.fake:create_channel",
    "email": "channels.email.channel:create_channel",
    "slack": "channels.slack.channel:create_channel",  # issue 11
}

__all__ = ["REGISTRY"]
