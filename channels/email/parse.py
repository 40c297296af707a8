"""``parse_message``: raw bytes in, one :class:`ParsedMail` out, never an exception.

Pure: no database, no network. (Work in progress: the stub classifies everything as
malformed; the real pipeline replaces it with the same signature.)
"""

from __future__ import annotations

from collections.abc import Collection

from channels.email.parsed import MailClass, ParsedMail, ParseLimits


def parse_message(
    raw: bytes,
    *,
    own_addresses: Collection[str] = (),
    limits: ParseLimits | None = None,
) -> ParsedMail:
    return ParsedMail(
        mail_class=MailClass.SPAM_OR_MALFORMED,
        class_reason="parser not implemented yet",
        automatic_reply_allowed=False,
        raw_size=len(raw),
    )
