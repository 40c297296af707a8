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


# ------------------------------------------------- identity verification
#
# A host site whose visitors are logged in can tell Guichet who they are, the way
# Intercom and Chatwoot do: the page passes ``user_id`` and
# ``user_hash = hex(HMAC-SHA256(identity_secret, user_id))``, computed on the host's
# server with the secret shared with Guichet (``[webchat] identity_secret``).  A
# verified visitor gets a visitor id derived from the user id, so every device they
# use opens the same conversation; an unverified claim is ignored (anonymous).

VERIFIED_PREFIX = "u-"
_VERIFIED_ID = re.compile(r"u-[A-Za-z0-9_-]{43}")
_VERIFIED_LABEL = b"guichet/webchat/verified-user/v1"
MAX_USER_ID_CHARS = 200
_USER_ID = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    """What the host page says about the visitor (not yet checked)."""

    user_id: str
    user_hash: str


def is_verified_visitor_id(visitor_id: str) -> bool:
    """True for a visitor id derived from a verified user id (random ids are 22
    characters long; derived ones 45, starting ``u-``)."""
    return bool(_VERIFIED_ID.fullmatch(visitor_id))


def identity_claim(data: object) -> IdentityClaim | None:
    """The claim in a ``hello`` frame's JSON object: None when it has no ``user_id``
    or its fields are malformed (a malformed claim proves nothing: anonymous)."""
    if not isinstance(data, dict):
        return None
    user_id, user_hash = data.get("user_id"), data.get("user_hash")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id) or user_id != user_id.strip():
        return None
    if not isinstance(user_hash, str) or not _HEX_HASH.fullmatch(user_hash):
        return IdentityClaim(user_id, "")
    return IdentityClaim(user_id, user_hash.lower())


def user_hash(identity_secret: str, user_id: str) -> str:
    """What the host site computes: ``hex(HMAC-SHA256(identity_secret, user_id))``."""
    return hmac.new(identity_secret.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256).hexdigest()


class IdentityVerifier:
    """Checks identity claims; disabled (every claim refused) without a secret."""

    def __init__(self, identity_secret: str, server_secret: bytes) -> None:
        self._secret = identity_secret
        self._id_key = hmac.new(server_secret, _VERIFIED_LABEL, hashlib.sha256).digest()

    @property
    def enabled(self) -> bool:
        return bool(self._secret)

    def visitor_id(self, user_id: str) -> str:
        """The visitor id of a verified user: the same on every device, and not
        something a visitor can choose (it needs the server's secret)."""
        digest = hmac.new(self._id_key, user_id.encode("utf-8"), hashlib.sha256).digest()
        return VERIFIED_PREFIX + _b64(digest)

    def verify(self, claim: IdentityClaim) -> str | None:
        """The verified user's visitor id, or None if the hash does not match."""
        if not self._secret or not claim.user_hash:
            return None
        expected = user_hash(self._secret, claim.user_id)
        if not hmac.compare_digest(expected, claim.user_hash):
            return None
        return self.visitor_id(claim.user_id)
