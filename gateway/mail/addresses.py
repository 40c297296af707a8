"""Email addresses as the mail room compares them: the domain case-insensitive,
plus-address tokens of our own addresses, senders that are machines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from email.utils import getaddresses, parseaddr

_ROBOT_LOCAL = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?|"
    r"auto[-_.]?reply|autoresponder|notifications?|daemon)([+\-._].*)?$",
    re.IGNORECASE,
)


def normalise(address: str) -> str:
    """``Local@Example.COM`` → ``Local@example.com``: the local part as written (it
    may be case-sensitive), the domain in lower case; surrounding ``<>`` and spaces
    removed.  An address without ``@`` is returned stripped."""
    addr = address.strip().strip("<>").strip()
    local, at, domain = addr.rpartition("@")
    if not at:
        return addr
    return f"{local}@{domain.lower()}"


def same_address(a: str, b: str) -> bool:
    return bool(a) and normalise(a) == normalise(b)


def split_plus(address: str) -> tuple[str, str]:
    """``support+abc@x`` → (``support@x``, ``abc``); no plus: (address, "")."""
    addr = normalise(address)
    local, at, domain = addr.rpartition("@")
    if not at or "+" not in local:
        return addr, ""
    base, _, tag = local.partition("+")
    return f"{base}@{domain}", tag


class OwnAddresses:
    """Our support addresses and their plus variants (compared case-insensitively:
    we define our own local parts)."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = tuple(normalise(a) for a in addresses if a.strip())
        self._keys = {a.lower() for a in self.addresses}

    @property
    def primary(self) -> str:
        return self.addresses[0] if self.addresses else "support@localhost"

    def accepts(self, address: str) -> bool:
        """True for one of our addresses or one of their ``+tag`` variants."""
        base, _tag = split_plus(address)
        return base.lower() in self._keys

    def token_of(self, address: str) -> str:
        """The plus-address tag of one of our addresses, else ""."""
        base, tag = split_plus(address)
        return tag if base.lower() in self._keys else ""

    def tokens(self, addresses: Iterable[str]) -> list[str]:
        found: list[str] = []
        for address in addresses:
            tag = self.token_of(address)
            if tag and tag not in found:
                found.append(tag)
        return found

    def with_token(self, token: str) -> str:
        local, _, domain = self.primary.rpartition("@")
        return f"{local}+{token}@{domain}"


def is_robot(address: str) -> bool:
    """A sender that is a machine (mailer-daemon, no-reply, ...) or no sender at all."""
    addr = normalise(address)
    if not addr or "@" not in addr:
        return True
    return bool(_ROBOT_LOCAL.match(addr.rpartition("@")[0]))


def header_addresses(value: str) -> list[tuple[str, str]]:
    """(name, address) pairs of a raw header value; never raises."""
    try:
        return [(n, a) for n, a in getaddresses([value]) if a]
    except Exception:  # malformed header: nothing usable
        return []


def first_address(value: str) -> tuple[str, str]:
    try:
        return parseaddr(value)
    except Exception:
        return "", ""
