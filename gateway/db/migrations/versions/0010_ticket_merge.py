"""ticket merge: ticket_merges (the pointer from a merged ticket to the one it went into)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f'{table}.id'], name=op.f(f'fk_ticket_merges_{column}_{table}'), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table('ticket_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_ticket_id', sa.Integer(), nullable=True),
    sa.Column('target_ticket_id', sa.Integer(), nullable=True),
    sa.Column('source_conversation_id', sa.Integer(), nullable=False),
    sa.Column('target_conversation_id', sa.Integer(), nullable=False),
    sa.Column('moved_messages', sa.Integer(), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', gateway.db.types.UTCDateTime(), nullable=False),
    _fk('actor_id', 'users', 'SET NULL'),
    _fk('source_conversation_id', 'conversations', 'CASCADE'),
    _fk('source_ticket_id', 'tickets', 'CASCADE'),
    _fk('suggestion_id', 'mail_suggestions', 'SET NULL'),
    _fk('target_conversation_id', 'conversations', 'CASCADE'),
    _fk('target_ticket_id', 'tickets', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_merges')),
    sa.UniqueConstraint('source_ticket_id', name=op.f('uq_ticket_merges_source_ticket_id'))
    )
    op.create_index(op.f('ix_ticket_merges_source_conversation_id'), 'ticket_merges',
                    ['source_conversation_id'], unique=False)
    op.create_index('ix_ticket_merges_target', 'ticket_merges', ['target_ticket_id'], unique=False)
    op.create_index(op.f('ix_ticket_merges_target_conversation_id'), 'ticket_merges',
                    ['target_conversation_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ticket_merges_target_conversation_id'), table_name='ticket_merges')
    op.drop_index('ix_ticket_merges_target', table_name='ticket_merges')
    op.drop_index(op.f('ix_ticket_merges_source_conversation_id'), table_name='ticket_merges')
    op.drop_table('ticket_merges')
