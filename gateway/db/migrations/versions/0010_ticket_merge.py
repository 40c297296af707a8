"""ticket merge: ticket_merges (the pointer from a merged ticket to the one it went into);
contacts, tags, incidents: ticket_contacts, ticket_tags, incidents, incident_tickets

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

    # --- contacts, tags, incidents (issue 9: gateway/db/tables_desk.py) ---
    _desk_upgrade()


def _desk_fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'), ondelete=ondelete
    )


def _desk_upgrade() -> None:
    utc = gateway.db.types.UTCDateTime
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detected', sa.Boolean(), nullable=False),
    sa.Column('created_at', utc(), nullable=False),
    sa.Column('closed_at', utc(), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('status_message', sa.Text(), nullable=False),
    sa.Column('announced_at', utc(), nullable=True),
    sa.Column('announced_by', sa.Integer(), nullable=True),
    _desk_fk('incidents', 'announced_by', 'users', 'SET NULL'),
    _desk_fk('incidents', 'closed_by', 'users', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_index('ix_incidents_status', 'incidents', ['status', 'id'], unique=False)
    op.create_table('incident_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('linked_by', sa.Integer(), nullable=True),
    sa.Column('created_at', utc(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('announced_at', utc(), nullable=True),
    _desk_fk('incident_tickets', 'incident_id', 'incidents', 'CASCADE'),
    _desk_fk('incident_tickets', 'linked_by', 'users', 'SET NULL'),
    _desk_fk('incident_tickets', 'message_id', 'messages', 'SET NULL'),
    _desk_fk('incident_tickets', 'ticket_id', 'tickets', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_tickets')),
    sa.UniqueConstraint('incident_id', 'ticket_id', name=op.f('uq_incident_tickets_incident_id'))
    )
    op.create_index(op.f('ix_incident_tickets_incident_id'), 'incident_tickets', ['incident_id'], unique=False)
    op.create_index(op.f('ix_incident_tickets_ticket_id'), 'incident_tickets', ['ticket_id'], unique=False)
    op.create_table('ticket_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', utc(), nullable=False),
    sa.Column('created_at', utc(), nullable=False),
    _desk_fk('ticket_contacts', 'actor_id', 'users', 'SET NULL'),
    _desk_fk('ticket_contacts', 'ticket_id', 'tickets', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_contacts'))
    )
    op.create_index('ix_ticket_contacts_ticket', 'ticket_contacts', ['ticket_id', 'id'], unique=False)
    op.create_table('ticket_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', utc(), nullable=False),
    _desk_fk('ticket_tags', 'actor_id', 'users', 'SET NULL'),
    _desk_fk('ticket_tags', 'ticket_id', 'tickets', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_tags')),
    sa.UniqueConstraint('ticket_id', 'tag', name=op.f('uq_ticket_tags_ticket_id'))
    )
    op.create_index('ix_ticket_tags_tag', 'ticket_tags', ['tag'], unique=False)
    # --- end contacts, tags, incidents ---


def downgrade() -> None:
    # --- contacts, tags, incidents (issue 9) ---
    op.drop_index('ix_ticket_tags_tag', table_name='ticket_tags')
    op.drop_table('ticket_tags')
    op.drop_index('ix_ticket_contacts_ticket', table_name='ticket_contacts')
    op.drop_table('ticket_contacts')
    op.drop_index(op.f('ix_incident_tickets_ticket_id'), table_name='incident_tickets')
    op.drop_index(op.f('ix_incident_tickets_incident_id'), table_name='incident_tickets')
    op.drop_table('incident_tickets')
    op.drop_index('ix_incidents_status', table_name='incidents')
    op.drop_table('incidents')
    # --- end contacts, tags, incidents ---
    op.drop_index(op.f('ix_ticket_merges_target_conversation_id'), table_name='ticket_merges')
    op.drop_index('ix_ticket_merges_target', table_name='ticket_merges')
    op.drop_index(op.f('ix_ticket_merges_source_conversation_id'), table_name='ticket_merges')
    op.drop_table('ticket_merges')
