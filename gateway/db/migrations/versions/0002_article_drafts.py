"""article_drafts: articles drafted from resolved tickets, approved by an admin

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:48:05.218768
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('article_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('article_id', sa.String(length=200), nullable=True),
    sa.Column('index_version', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('created_at', gateway.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', gateway.db.types.UTCDateTime(), nullable=False),
    sa.Column('reviewed_at', gateway.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_article_drafts_approved_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_article_drafts_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_article_drafts_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_drafts'))
    )
    with op.batch_alter_table('article_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_article_drafts_status', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_drafts_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('article_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_drafts_ticket_id'))
        batch_op.drop_index('ix_article_drafts_status')

    op.drop_table('article_drafts')
