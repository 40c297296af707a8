"""the email channel's tables: raw mail and attachment blobs, inbound mail with
its class and quarantine, threads and participants, outbound mail and its
recipients, suppression list, loop-guard and rate-limit counts, merge suggestions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import UTCDateTime

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mail_auto_sends',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_mail_auto_sends'))
    )
    with op.batch_alter_table('mail_auto_sends', schema=None) as batch_op:
        batch_op.create_index('ix_mail_auto_sends_address', ['address', 'sent_at'], unique=False)
        batch_op.create_index('ix_mail_auto_sends_conversation', ['conversation_id', 'sent_at'], unique=False)

    op.create_table('mail_blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_mail_blobs'))
    )
    op.create_table('mail_rate_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('window_start', UTCDateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_rate_counts')),
    sa.UniqueConstraint('key', 'window_start', name='uq_mail_rate_counts_key_window')
    )
    op.create_table('mail_suppressions',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_mail_suppressions'))
    )
    op.create_table('mail_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_mail_participants_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_participants')),
    sa.UniqueConstraint('conversation_id', 'address', name='uq_mail_participants_conv_addr')
    )
    with op.batch_alter_table('mail_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_participants_address'), ['address'], unique=False)

    op.create_table('mail_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['conversations.id'], name=op.f('fk_mail_suggestions_candidate_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_mail_suggestions_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_mail_suggestions_decided_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_suggestions'))
    )
    with op.batch_alter_table('mail_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_suggestions_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('mail_threads',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('follows_conversation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_mail_threads_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_mail_threads')),
    sa.UniqueConstraint('token', name=op.f('uq_mail_threads_token'))
    )
    op.create_table('mail_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=512), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('envelope_from', sa.String(length=320), nullable=False),
    sa.Column('envelope_to', sa.JSON(), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=512), nullable=True),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('from_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mail_class', sa.String(length=24), nullable=True),
    sa.Column('class_reason', sa.Text(), nullable=False),
    sa.Column('quarantine_reason', sa.Text(), nullable=False),
    sa.Column('clean_text', sa.Text(), nullable=False),
    sa.Column('quoted', sa.Text(), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('thread_rule', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('stored_message_id', sa.Integer(), nullable=True),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('processed_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_mail_inbound_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['raw_sha256'], ['mail_blobs.sha256'], name=op.f('fk_mail_inbound_raw_sha256_mail_blobs')),
    sa.ForeignKeyConstraint(['stored_message_id'], ['messages.id'], name=op.f('fk_mail_inbound_stored_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_inbound')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_mail_inbound_dedupe_key')),
    sa.UniqueConstraint('source_ref', name=op.f('uq_mail_inbound_source_ref'))
    )
    with op.batch_alter_table('mail_inbound', schema=None) as batch_op:
        batch_op.create_index('ix_mail_inbound_conversation', ['conversation_id'], unique=False)
        batch_op.create_index('ix_mail_inbound_message_id', ['message_id'], unique=False)
        batch_op.create_index('ix_mail_inbound_status', ['status', 'id'], unique=False)

    op.create_table('mail_outbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('rfc_message_id', sa.String(length=512), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_mail_outbound_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_mail_outbound_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbound')),
    sa.UniqueConstraint('message_id', name=op.f('uq_mail_outbound_message_id')),
    sa.UniqueConstraint('rfc_message_id', name=op.f('uq_mail_outbound_rfc_message_id'))
    )
    with op.batch_alter_table('mail_outbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbound_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('mail_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=False),
    sa.Column('content_id', sa.String(length=255), nullable=True),
    sa.Column('inline', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['blob_sha256'], ['mail_blobs.sha256'], name=op.f('fk_mail_attachments_blob_sha256_mail_blobs')),
    sa.ForeignKeyConstraint(['inbound_id'], ['mail_inbound.id'], name=op.f('fk_mail_attachments_inbound_id_mail_inbound'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_attachments'))
    )
    with op.batch_alter_table('mail_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_attachments_inbound_id'), ['inbound_id'], unique=False)

    op.create_table('mail_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outbound_id'], ['mail_outbound.id'], name=op.f('fk_mail_recipients_outbound_id_mail_outbound'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_recipients')),
    sa.UniqueConstraint('outbound_id', 'address', name='uq_mail_recipients_out_addr')
    )


def downgrade() -> None:
    op.drop_table('mail_recipients')
    with op.batch_alter_table('mail_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_attachments_inbound_id'))

    op.drop_table('mail_attachments')
    with op.batch_alter_table('mail_outbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbound_conversation_id'))

    op.drop_table('mail_outbound')
    with op.batch_alter_table('mail_inbound', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_inbound_status')
        batch_op.drop_index('ix_mail_inbound_message_id')
        batch_op.drop_index('ix_mail_inbound_conversation')

    op.drop_table('mail_inbound')
    op.drop_table('mail_threads')
    with op.batch_alter_table('mail_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_suggestions_conversation_id'))

    op.drop_table('mail_suggestions')
    with op.batch_alter_table('mail_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_participants_address'))

    op.drop_table('mail_participants')
    op.drop_table('mail_suppressions')
    op.drop_table('mail_rate_counts')
    op.drop_table('mail_blobs')
    with op.batch_alter_table('mail_auto_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_auto_sends_conversation')
        batch_op.drop_index('ix_mail_auto_sends_address')

    op.drop_table('mail_auto_sends')
