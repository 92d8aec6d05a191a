"""ledger, balances, daily spend, tasks and the replay cache

Revision ID: 0001
Revises:
Create Date: 2026-11-24 16:03:24.134559
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('daily_spend',
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('tool', sa.String(length=40), nullable=False),
    sa.Column('spent', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('workspace_id', 'team', 'day', 'tool')
    )
    op.create_table('ledger_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('plan_delta', sa.Integer(), nullable=False),
    sa.Column('extra_delta', sa.Integer(), nullable=False),
    sa.Column('held_delta', sa.Integer(), nullable=False),
    sa.Column('spent_delta', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=32), nullable=True),
    sa.Column('tool', sa.String(length=40), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'idempotency_key', name='uq_ledger_entry_idempotency')
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_member_time', ['workspace_id', 'team', 'member', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_entry_team_time', ['workspace_id', 'team', 'created_at'], unique=False)

    op.create_table('processed_request',
    sa.Column('signature_hash', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature_hash')
    )
    with op.batch_alter_table('processed_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_request_received_at'), ['received_at'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=False),
    sa.Column('requester', sa.String(length=32), nullable=False),
    sa.Column('tool', sa.String(length=40), nullable=False),
    sa.Column('quality', sa.String(length=40), nullable=False),
    sa.Column('variants', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('retries_planned', sa.Integer(), nullable=True),
    sa.Column('quoted_cost', sa.Integer(), nullable=False),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('actual_cost', sa.Integer(), nullable=True),
    sa.Column('retries_used', sa.Integer(), nullable=True),
    sa.Column('kept', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_member_status', ['workspace_id', 'team', 'requester', 'status'], unique=False)
        batch_op.create_index('ix_task_team_tool_finished', ['workspace_id', 'team', 'tool', 'finished_at'], unique=False)

    op.create_table('team_balance',
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=False),
    sa.Column('cycle_start', sa.Date(), nullable=False),
    sa.Column('plan', sa.Integer(), nullable=False),
    sa.Column('extra', sa.Integer(), nullable=False),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.Column('spent', sa.Integer(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('workspace_id', 'team')
    )



def downgrade() -> None:

    op.drop_table('team_balance')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_team_tool_finished')
        batch_op.drop_index('ix_task_member_status')

    op.drop_table('task')
    with op.batch_alter_table('processed_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_request_received_at'))

    op.drop_table('processed_request')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_team_time')
        batch_op.drop_index('ix_ledger_entry_member_time')

    op.drop_table('ledger_entry')
    op.drop_table('daily_spend')

