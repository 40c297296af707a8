"""IMAP mailbox positions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import UTCDateTime

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'imap_positions',
        sa.Column('mailbox', sa.String(length=400), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('last_uid', sa.BigInteger(), nullable=False),
        sa.Column('first_connected_at', UTCDateTime(), nullable=False),
        sa.Column('synced_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('mailbox', name=op.f('pk_imap_positions')),
    )


def downgrade() -> None:
    op.drop_table('imap_positions')
