"""Password hashing with scrypt (stdlib), in a self-describing string format.

``scrypt$n$r$p$salt_b64$hash_b64``: the parameters travel with the hash, so they
can be raised later without invalidating existing accounts.  The KDF is slow on
purpose: async code calls it through :func:`hash_password_async` and
:func:`verify_password_async`, which run it in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

SCHEME = "scrypt"
N = 2**14
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_PASSWORD_CHARS = 1024  # bounds the work an attacker can ask for


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kdf(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # maxmem: scrypt needs 128 * n * r * p bytes; leave headroom above the default 32 MiB.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen,
        maxmem=256 * n * r * p + 1024 * 1024,
    )


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """Hash ``password`` with a fresh random salt (blocking: ~50 ms)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _kdf(password, salt, n, r, p, KEY_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(key)}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if n < 2 or n & (n - 1) or n > 2**20 or not 1 <= r <= 32 or not 1 <= p <= 16 or not key:
        return None
    return n, r, p, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``; compares in constant time."""
    parsed = _parse(encoded)
    if parsed is None:
        # Still do the work so a damaged row is not distinguishable by timing.
        _kdf(password, b"\0" * SALT_BYTES, N, R, P, KEY_BYTES)
        return False
    n, r, p, salt, key = parsed
    candidate = _kdf(password, salt, n, r, p, len(key))
    return hmac.compare_digest(candidate, key)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A real hash of a random password: verified against when a user does not
    exist, so that a login costs the same whether or not the name is known."""
    return hash_password(secrets.token_urlsafe(16))


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, encoded: str) -> bool:
    return await asyncio.to_thread(verify_password, password, encoded)
