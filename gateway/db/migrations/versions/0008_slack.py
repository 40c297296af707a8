"""slack threads and event dedupe (Slack channel, issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import UTCDateTime

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('slack_events',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_slack_events'))
    )
    with op.batch_alter_table('slack_events', schema=None) as batch_op:
        batch_op.create_index('ix_slack_events_received_at', ['received_at'], unique=False)

    op.create_table('slack_dm_threads',
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('root_ts', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_slack_dm_threads'))
    )
    op.create_table('slack_posts',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_slack_posts'))
    )
    op.create_table('slack_ticket_threads',
    sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('mirrored_upto', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_slack_ticket_threads')),
    sa.UniqueConstraint('channel', 'ts', name='uq_slack_ticket_threads_channel_ts')
    )
    with op.batch_alter_table('slack_ticket_threads', schema=None) as batch_op:
        batch_op.create_index('ix_slack_ticket_threads_conversation', ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_ticket_threads', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_ticket_threads_conversation')
    op.drop_table('slack_ticket_threads')
    op.drop_table('slack_posts')
    op.drop_table('slack_dm_threads')
    with op.batch_alter_table('slack_events', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_events_received_at')
    op.drop_table('slack_events')
