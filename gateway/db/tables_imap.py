"""IMAP mailbox positions (mailbox, UIDVALIDITY, last UID imported).  Portable SQL
only; every change goes through an Alembic migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.tables import Base


class ImapPositionRow(Base):
    """Where the import of one IMAP folder stands.

    ``mailbox`` is ``user@host/FOLDER``.  Every message of the folder whose UID is at
    most ``last_uid`` under ``uidvalidity`` was imported (committed) or was already
    there when the folder was first connected (``first_connected_at``) and is never
    imported.  ``synced_at`` is the last time the folder was seen with nothing left
    to import: after a UIDVALIDITY change only mail that arrived since then is looked at.
    """

    __tablename__ = "imap_positions"
    mailbox: Mapped[str] = mapped_column(String(400), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    first_connected_at: Mapped[datetime]
    synced_at: Mapped[datetime]
    updated_at: Mapped[datetime]
