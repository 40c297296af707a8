"""The server secret that signs visitor tokens: from settings, or generated once
and kept (mode 0600) in the data directory so tokens survive restarts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gateway.config import Settings


def load_secret(settings: Settings) -> bytes:
    if settings.server.secret_key:
        return settings.server.secret_key.encode()
    path = settings.data_path / "secret_key"
    try:
        return Path(path).read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return value
