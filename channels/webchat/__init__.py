"""Web chat: an embeddable widget talking JSON over a WebSocket to the gateway.

The lead wires it with::

    channel = create_channel(ctx)          # ctx: gateway.flow.channel_context.ChannelContext
    channel.setup_routes(app)              # GET /chat/ws, /widget.js, /widget.css, /
    await channel.start(inbox.accept)      # ... and ``await channel.stop()`` on shutdown

The wire protocol is documented in ``channels/webchat/PROTOCOL.md``.
"""

from __future__ import annotations

from channels.webchat.channel import WebChatChannel
from channels.webchat.protocol import CLOSE_BAD_TOKEN, ErrorCode
from channels.webchat.token import ExpiredToken, InvalidToken, TokenSigner
from gateway.flow.channel_context import ChannelContext

__all__ = [
    "CLOSE_BAD_TOKEN",
    "ErrorCode",
    "ExpiredToken",
    "InvalidToken",
    "TokenSigner",
    "WebChatChannel",
    "create_channel",
]


def create_channel(ctx: ChannelContext) -> WebChatChannel:
    """The web-chat channel for this gateway."""
    return WebChatChannel(ctx)
