"""the ticket desk's tables: lifecycle, priority and SLA columns on tickets (old
"normal"/"low"/"high"/"urgent" priorities become P3/P4/P2/P1), history, pauses, SLA
alerts, queues (L1 and L2 seeded) and members, presence, appointments, canned
responses, customer tiers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import gateway.db.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PRIORITIES = {"urgent": "P1", "high": "P2", "normal": "P3", "low": "P4"}


def _dt() -> gateway.db.types.UTCDateTime:
    return gateway.db.types.UTCDateTime()


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=24),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('urgency', sa.String(length=16), nullable=False,
                                      server_default='medium'))
        batch_op.add_column(sa.Column('impact', sa.String(length=16), nullable=False,
                                      server_default='medium'))
        batch_op.add_column(sa.Column('category', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('closed_at', _dt(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', _dt(), nullable=True))
        batch_op.add_column(sa.Column('sla_policy', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('next_response_due', _dt(), nullable=True))
        batch_op.add_column(sa.Column('resolution_due', _dt(), nullable=True))
        batch_op.add_column(sa.Column('sla_due', _dt(), nullable=True))
        batch_op.add_column(sa.Column('sla_paused', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_tickets_sla_due', ['sla_due'], unique=False)
        batch_op.create_index('ix_tickets_assignee', ['assignee_id', 'status'], unique=False)
    tickets = sa.table('tickets', sa.column('priority', sa.String))
    for old, new in OLD_PRIORITIES.items():
        op.execute(tickets.update().where(tickets.c.priority == old).values(priority=new))
    op.execute(tickets.update().where(tickets.c.priority.notin_(list(OLD_PRIORITIES.values())))
               .values(priority='P3'))

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', _dt(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ticket_events_actor_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    op.create_index('ix_ticket_events_ticket', 'ticket_events', ['ticket_id', 'id'], unique=False)

    op.create_table('ticket_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('started_at', _dt(), nullable=False),
    sa.Column('ended_at', _dt(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_pauses_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_pauses'))
    )
    op.create_index('ix_ticket_pauses_ticket', 'ticket_pauses', ['ticket_id', 'started_at'], unique=False)

    op.create_table('sla_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cycle_at', _dt(), nullable=False),
    sa.Column('due_at', _dt(), nullable=False),
    sa.Column('created_at', _dt(), nullable=False),
    sa.Column('notified_at', _dt(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_alerts_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_alerts')),
    sa.UniqueConstraint('ticket_id', 'target', 'kind', 'cycle_at', name='uq_sla_alerts_key')
    )
    op.create_index('ix_sla_alerts_pending', 'sla_alerts', ['notified_at'], unique=False)

    queues = op.create_table('queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('created_at', _dt(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queues')),
    sa.UniqueConstraint('name', name=op.f('uq_queues_name'))
    )
    now = datetime.now(UTC)
    op.bulk_insert(queues, [
        {'name': 'L1', 'label': 'First level', 'level': 1, 'created_at': now},
        {'name': 'L2', 'label': 'Second level', 'level': 2, 'created_at': now},
    ])

    op.create_table('queue_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_members_queue_id_queues'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_queue_members_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_members')),
    sa.UniqueConstraint('queue_id', 'user_id', name='uq_queue_members_pair')
    )
    op.create_index(op.f('ix_queue_members_user_id'), 'queue_members', ['user_id'], unique=False)

    op.create_table('operator_presence',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('last_assigned_at', _dt(), nullable=True),
    sa.Column('updated_at', _dt(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_operator_presence_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_operator_presence'))
    )

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', _dt(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('customer_told', sa.Boolean(), nullable=False),
    sa.Column('reminded_at', _dt(), nullable=True),
    sa.Column('done_at', _dt(), nullable=True),
    sa.Column('outcome', sa.String(length=500), nullable=False),
    sa.Column('created_at', _dt(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_appointments_created_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_appointments_owner_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_appointments_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    op.create_index('ix_appointments_status_due', 'appointments', ['status', 'due_at'], unique=False)
    op.create_index(op.f('ix_appointments_ticket_id'), 'appointments', ['ticket_id'], unique=False)

    op.create_table('canned_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', _dt(), nullable=False),
    sa.Column('updated_at', _dt(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_canned_responses_created_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses')),
    sa.UniqueConstraint('title', name=op.f('uq_canned_responses_title'))
    )

    op.create_table('customer_tiers',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_customer_tiers_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_tiers'))
    )


def downgrade() -> None:
    op.drop_table('customer_tiers')
    op.drop_table('canned_responses')
    op.drop_index(op.f('ix_appointments_ticket_id'), table_name='appointments')
    op.drop_index('ix_appointments_status_due', table_name='appointments')
    op.drop_table('appointments')
    op.drop_table('operator_presence')
    op.drop_index(op.f('ix_queue_members_user_id'), table_name='queue_members')
    op.drop_table('queue_members')
    op.drop_table('queues')
    op.drop_index('ix_sla_alerts_pending', table_name='sla_alerts')
    op.drop_table('sla_alerts')
    op.drop_index('ix_ticket_pauses_ticket', table_name='ticket_pauses')
    op.drop_table('ticket_pauses')
    op.drop_index('ix_ticket_events_ticket', table_name='ticket_events')
    op.drop_table('ticket_events')
    tickets = sa.table('tickets', sa.column('priority', sa.String), sa.column('status', sa.String))
    for old, new in OLD_PRIORITIES.items():
        op.execute(tickets.update().where(tickets.c.priority == new).values(priority=old))
    op.execute(tickets.update().where(tickets.c.status.in_(['pending_customer', 'pending_third_party']))
               .values(status='open'))
    op.execute(tickets.update().where(tickets.c.status == 'closed').values(status='resolved'))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_assignee')
        batch_op.drop_index('ix_tickets_sla_due')
        for column in ('sla_paused', 'sla_due', 'resolution_due', 'next_response_due', 'sla_policy',
                       'escalated_at', 'closed_at', 'category', 'impact', 'urgency'):
            batch_op.drop_column(column)
        batch_op.alter_column('status', existing_type=sa.String(length=24), type_=sa.String(length=16),
                              existing_nullable=False)
