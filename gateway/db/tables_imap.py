"""IMAP mailbox positions (mailbox, UIDVALIDITY, last UID imported).  Portable SQL
only; every change goes through an Alembic migration."""

from __future__ import annotations
