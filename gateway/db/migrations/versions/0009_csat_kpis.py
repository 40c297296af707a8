"""satisfaction surveys (CSAT): one survey per resolved ticket, its hashed link token,
its expiry and the customer's answer

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dt() -> gateway.db.types.UTCDateTime:
    return gateway.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table('csat_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('sent_at', _dt(), nullable=False),
    sa.Column('expires_at', _dt(), nullable=False),
    sa.Column('answered_at', _dt(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_csat_surveys_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_csat_surveys_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_surveys')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_csat_surveys_ticket_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_csat_surveys_token_hash'))
    )
    op.create_index('ix_csat_surveys_sent_at', 'csat_surveys', ['sent_at'], unique=False)
    op.create_index('ix_csat_surveys_answered_at', 'csat_surveys', ['answered_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_csat_surveys_answered_at', table_name='csat_surveys')
    op.drop_index('ix_csat_surveys_sent_at', table_name='csat_surveys')
    op.drop_table('csat_surveys')
