"""Signed visitor tokens: who a web-chat visitor is, across reloads and tabs.

A token is ``v1.<visitor_id>.<issued_at>.<signature>``:

- ``visitor_id``: random, URL-safe (``secrets.token_urlsafe``), never contains ``.``;
- ``issued_at``: Unix time in seconds, from the injected clock;
- ``signature``: HMAC-SHA256 over ``v1.<visitor_id>.<issued_at>``, URL-safe base64
  without padding, keyed by a key derived from the server's secret (so the same
  secret signing something else elsewhere can never produce a valid token).

:meth:`TokenSigner.verify` raises :class:`InvalidToken` for anything forged or
malformed and :class:`ExpiredToken` for a genuine token older than its lifetime.
Nothing in the token is secret; it only proves the server issued it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.clock import Clock

VERSION = "v1"
MAX_TOKEN_CHARS = 256
_VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_ISSUED = re.compile(r"[0-9]{1,11}")
_KEY_LABEL = b"guichet/webchat/visitor-token/v1"


class TokenError(Exception):
    """The token cannot be used; ``code`` is the protocol's error code."""

    code = "invalid_token"


class InvalidToken(TokenError):
    """Forged, tampered with, or not a token at all."""

    code = "invalid_token"


class ExpiredToken(TokenError):
    """Genuine, but older than the configured lifetime."""

    code = "token_expired"


@dataclass(frozen=True, slots=True)
class VisitorToken:
    visitor_id: str
    issued_at: datetime


def new_visitor_id() -> str:
    """A fresh random visitor id (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenSigner:
    """Issues and verifies visitor tokens with HMAC-SHA256."""

    def __init__(self, secret_key: bytes, clock: Clock, ttl: timedelta) -> None:
        if not secret_key:
            raise ValueError("the secret key must not be empty")
        self._key = hmac.new(secret_key, _KEY_LABEL, hashlib.sha256).digest()
        self._clock = clock
        self._ttl = ttl

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, visitor_id: str | None = None) -> tuple[str, VisitorToken]:
        """A token for ``visitor_id`` (a new visitor if None), issued now."""
        vid = visitor_id or new_visitor_id()
        if not _VISITOR_ID.fullmatch(vid):
            raise ValueError(f"not a valid visitor id: {vid!r}")
        issued = int(self._clock.now().timestamp())
        payload = f"{VERSION}.{vid}.{issued}"
        token = f"{payload}.{self._sign(payload)}"
        return token, VisitorToken(vid, datetime.fromtimestamp(issued, UTC))

    def verify(self, token: str) -> VisitorToken:
        """The visitor the token names; raises InvalidToken or ExpiredToken."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("malformed token")
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise InvalidToken("malformed token")
        _, vid, issued_s, signature = parts
        if not _VISITOR_ID.fullmatch(vid) or not _ISSUED.fullmatch(issued_s):
            raise InvalidToken("malformed token")
        expected = self._sign(f"{VERSION}.{vid}.{issued_s}")
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
            raise InvalidToken("bad signature")
        issued_at = datetime.fromtimestamp(int(issued_s), UTC)
        if self._clock.now() - issued_at > self._ttl:
            raise ExpiredToken("token expired")
        return VisitorToken(vid, issued_at)
