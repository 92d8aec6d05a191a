"""tasks numbered per team, approvals, audit trail and admin overrides

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_task_member_created", ["workspace_id", "team", "requester", "created_at"])
        batch_op.create_unique_constraint("uq_task_number", ["workspace_id", "team", "number"])
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.String(length=500), nullable=False),
        sa.Column("details", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_status_expiry", "approval", ["status", "expires_at"])
    op.create_index("ix_approval_task", "approval", ["workspace_id", "task_id"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("details", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entry_time", "audit_entry", ["workspace_id", "created_at"])
    op.create_table(
        "member_role",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "team", "user_id"),
    )
    op.create_table(
        "role_limit",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("task_limit", sa.Integer(), nullable=True),
        sa.Column("weekly_limit", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("workspace_id", "role"),
    )
    op.create_table(
        "team_setting",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "team"),
    )


def downgrade() -> None:
    op.drop_table("team_setting")
    op.drop_table("role_limit")
    op.drop_table("member_role")
    op.drop_index("ix_audit_entry_time", table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_index("ix_approval_task", table_name="approval")
    op.drop_index("ix_approval_status_expiry", table_name="approval")
    op.drop_table("approval")
    with op.batch_alter_table("task") as batch_op:
        batch_op.drop_constraint("uq_task_number", type_="unique")
        batch_op.drop_index("ix_task_member_created")
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("number")
