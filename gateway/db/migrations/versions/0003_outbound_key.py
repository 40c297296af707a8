"""messages.outbound_key (the idempotency key of an outbound message) and
jobs.conversation_id (a conversation's jobs run in order)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbound_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_messages_outbound_key', ['outbound_key'])
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_jobs_conversation', ['conversation_id', 'kind', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_conversation')
        batch_op.drop_column('conversation_id')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_outbound_key', type_='unique')
        batch_op.drop_column('outbound_key')
