"""One visitor's WebSocket: the hello handshake, then frames until it closes.

Frames are handled one at a time, in order: a message is acked only after
``accept`` returned, and the next frame waits for that.  Bad input gets an error
frame and the loop goes on; only a bad token (close 4401) or a failure to read
the visitor's history (close 1013, try again later) ends the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

from channels.webchat.protocol import (
    CLOSE_BAD_TOKEN,
    PONG,
    ChatMessage,
    ClientFrame,
    ErrorCode,
    Hello,
    Ping,
    ProtocolError,
    Typing,
    ack_frame,
    dumps,
    error_frame,
    message_frame,
    parse_frame,
    welcome_frame,
)
from channels.webchat.ratelimit import SlidingWindowLimit
from channels.webchat.token import (
    IdentityVerifier,
    TokenError,
    identity_claim,
    is_verified_visitor_id,
)
from gateway.models import Identity, Inbound
from gateway.views import MessageView

if TYPE_CHECKING:
    from channels.webchat.channel import WebChatChannel

log = logging.getLogger(__name__)

SEND_TIMEOUT = 5.0  # seconds a slow socket may hold up a push before it is dropped


def default_name(visitor_id: str) -> str:
    return f"Visitor {visitor_id[:6]}"


class Connection:
    """The server side of one open chat socket."""

    def __init__(
        self, channel: WebChatChannel, request: web.Request, ws: web.WebSocketResponse
    ) -> None:
        self.channel = channel
        self.request = request
        self.ws = ws
        self.visitor_id: str | None = None
        self.user_id: str | None = None  # the host site's user id, when verified
        self._hello_raw = ""
        self.name = ""
        self.lang: str | None = None
        self._holding = False  # between register and welcome: pushes wait for the welcome
        self._queued: list[str] = []
        self._lock = asyncio.Lock()
        self._typing_on = False
        clock = channel.ctx.clock
        self._messages = SlidingWindowLimit(
            clock, channel.message_rate[0], timedelta(seconds=channel.message_rate[1])
        )
        self._typing = SlidingWindowLimit(clock, 20, timedelta(seconds=10))
        self._handlers: dict[type, Callable[[Any], Coroutine[Any, Any, bool]]] = {
            ChatMessage: self._on_message,
            Typing: self._on_typing,
            Ping: self._on_ping,
        }

    # ------------------------------------------------------------------ output
    async def push(self, text: str) -> bool:
        """Send one serialised frame (held back while the welcome is being built)."""
        if self.ws.closed:
            return False
        if self._holding:
            self._queued.append(text)
            return True
        async with self._lock:
            return await self._write(text)

    async def _write(self, text: str) -> bool:
        try:
            await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT)
        except TimeoutError:
            log.warning("webchat: dropping a socket that does not read (visitor %s)",
                        self.visitor_id)
            if self.request.transport is not None:
                self.request.transport.close()
            return False
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _send(self, frame: dict[str, Any]) -> bool:
        return await self.push(dumps(frame))

    async def _error(self, code: ErrorCode, message: str, client_id: str | None = None) -> None:
        await self._send(error_frame(code, message, client_id))

    # -------------------------------------------------------------------- loop
    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    if not await self._on_text(msg.data):
                        break
                elif msg.type is WSMsgType.BINARY:
                    await self._error(
                        ErrorCode.BINARY_NOT_SUPPORTED, "only JSON text frames are accepted"
                    )
                elif msg.type is WSMsgType.ERROR:
                    log.info("webchat: socket error: %s", self.ws.exception())
                    break
        finally:
            await self._finish()

    async def _on_text(self, raw: str) -> bool:
        """Handle one text frame; False ends the connection."""
        try:
            frame = parse_frame(raw, self.channel.limits)
        except ProtocolError as exc:
            await self._send(exc.frame())
            return True
        if isinstance(frame, Hello):
            self._hello_raw = raw  # its optional identity claim is read by _on_hello
        try:
            return await self._dispatch(frame)
        except Exception:
            log.exception("webchat: failed to handle a %s frame", type(frame).__name__)
            client_id = frame.id if isinstance(frame, ChatMessage) else None
            await self._error(ErrorCode.INTERNAL_ERROR, "internal error, try again", client_id)
            return True

    async def _dispatch(self, frame: ClientFrame) -> bool:
        if isinstance(frame, Hello):
            if self.visitor_id is not None:
                await self._error(ErrorCode.INVALID_FRAME, "hello was already received")
                return True
            return await self._on_hello(frame)
        if self.visitor_id is None:
            client_id = frame.id if isinstance(frame, ChatMessage) else None
            await self._error(ErrorCode.HELLO_REQUIRED, "send a hello frame first", client_id)
            return True
        return await self._handlers[type(frame)](frame)

    # ------------------------------------------------------------------ frames
    def _verified_visitor(self) -> str | None:
        """The visitor id of a host-site user whose ``user_hash`` checks out, else None
        (no claim, no secret configured, or a wrong hash: the visitor is anonymous)."""
        try:
            claim = identity_claim(json.loads(self._hello_raw))
        except ValueError:
            return None
        if claim is None:
            return None
        verifier = IdentityVerifier(self.channel.ctx.settings.webchat.identity_secret,
                                    self.channel.ctx.secret_key)
        visitor_id = verifier.verify(claim)
        if visitor_id is None:
            log.info("webchat: an unverified identity claim was ignored (%s)",
                     "no identity_secret configured" if not verifier.enabled else "wrong user_hash")
            return None
        self.user_id = claim.user_id
        return visitor_id

    async def _refuse_token(self, code: ErrorCode, text: str) -> bool:
        await self._error(code, text)
        await self.ws.close(code=CLOSE_BAD_TOKEN, message=code.value.encode())
        return False

    async def _on_hello(self, hello: Hello) -> bool:
        channel = self.channel
        verified = self._verified_visitor()
        if hello.token is None:
            token, visitor = channel.signer.issue(verified)
        else:
            try:
                known = channel.signer.verify(hello.token)
            except TokenError as exc:
                code = ErrorCode(exc.code)
                text = ("your chat session has expired" if code is ErrorCode.TOKEN_EXPIRED
                        else "this chat token is not valid")
                return await self._refuse_token(code, text)
            if is_verified_visitor_id(known.visitor_id) and known.visitor_id != verified:
                # A logged-in user's token without that user's proof (logged out of the
                # host site, or someone else on this browser): never reopen their chat.
                return await self._refuse_token(ErrorCode.INVALID_TOKEN, "log in again to resume this chat")
            # sliding expiry; a visitor who just logged in on the host site becomes that user
            token, visitor = channel.signer.issue(verified or known.visitor_id)
        self.visitor_id = visitor.visitor_id
        self.name = hello.name or default_name(visitor.visitor_id)
        self.lang = hello.lang
        self._holding = True
        channel.register(self)  # before reading history: nothing sent meanwhile is lost
        try:
            if hello.token is None and verified is None:  # a new random visitor id: no history yet
                conversation, messages = None, list[MessageView]()
            else:
                conversation, messages = await channel.ctx.history("webchat", visitor.visitor_id)
        except Exception:
            log.exception("webchat: cannot read history of visitor %s", visitor.visitor_id)
            self._holding = False
            await self._error(ErrorCode.INTERNAL_ERROR, "cannot load the conversation, retry")
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"history")
            return False
        conversation_id = None
        if conversation is not None and conversation.thread_key == visitor.visitor_id:
            conversation_id = conversation.id
            channel.learn_conversation(visitor.visitor_id, conversation_id)
        history = [
            m.to_public()
            for m in messages
            if conversation_id is not None
            and m.conversation_id == conversation_id
            and m.customer_visible
        ]
        welcome = welcome_frame(
            token=token,
            visitor_id=visitor.visitor_id,
            conversation_id=conversation_id,
            history=history,
            limits=channel.limits,
        )
        welcome["verified"] = self.user_id is not None
        async with self._lock:
            self._holding = False
            queued, self._queued = self._queued, []
            for text in [dumps(welcome), *queued]:
                await self._write(text)
        return True

    async def _on_message(self, msg: ChatMessage) -> bool:
        assert self.visitor_id is not None
        if not self._messages.allow():
            await self._error(
                ErrorCode.RATE_LIMITED, "too many messages, wait a few seconds", msg.id
            )
            return True
        accept = self.channel.accept_fn
        inbound = Inbound(
            channel="webchat",
            external_id=f"{self.visitor_id}:{msg.id}",
            thread_key=self.visitor_id,
            # A verified visitor is the host site's user on every device: one identity.
            sender=Identity("webchat", f"user:{self.user_id}" if self.user_id else self.visitor_id,
                            self.name),
            text=msg.text,
            received_at=self.channel.ctx.clock.now(),
            language_hint=self.lang,
            quick_reply=msg.quick_reply,
        )
        try:
            if accept is None:
                raise RuntimeError("the web-chat channel is not started")
            result = await accept(inbound)
        except Exception:
            log.exception("webchat: accept failed for %s", inbound.external_id)
            await self._error(
                ErrorCode.INTERNAL_ERROR, "the message was not saved, send it again", msg.id
            )
            return True
        self.channel.learn_conversation(self.visitor_id, result.conversation_id)
        await self._send(ack_frame(msg.id, result.message_id, result.duplicate))
        if not result.duplicate:  # the visitor's other tabs show it too
            echo = {
                "id": result.message_id,
                "author": "customer",
                "author_name": self.name,
                "text": msg.text,
                "quick_replies": [],
                "created_at": inbound.received_at.isoformat(),
            }
            await self.channel.broadcast(self.visitor_id, dumps(message_frame(echo)), self)
        return True

    async def _on_typing(self, frame: Typing) -> bool:
        if frame.on == self._typing_on and frame.on is False:
            return True  # nothing to stop
        if self._typing.allow():
            self._typing_on = frame.on
            await self.channel.publish_typing(self, frame.on)
        return True

    async def _on_ping(self, _frame: Ping) -> bool:
        await self._send(PONG)
        return True

    async def _finish(self) -> None:
        if self.visitor_id is not None:
            self.channel.unregister(self)
            if self._typing_on:
                self._typing_on = False
                await self.channel.publish_typing(self, False)
