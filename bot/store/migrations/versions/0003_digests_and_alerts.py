"""digest and budget-alert claims, digest schedule overrides, the scheduler lease

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("slot_key", sa.String(length=64), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("chart_state", sa.String(length=16), nullable=False),
        sa.Column("chart_file_id", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "kind", "team", "slot_key", name="uq_scheduled_post_slot"),
    )
    op.create_index("ix_scheduled_post_state", "scheduled_post", ["state", "claimed_at"])
    op.create_index("ix_scheduled_post_team", "scheduled_post", ["workspace_id", "kind", "team", "slot_at"])
    op.create_table(
        "digest_schedule",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "team"),
    )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_approval_team_created", "approval", ["workspace_id", "team", "created_at"])
    op.create_index("ix_task_team_finished", "task", ["workspace_id", "team", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_task_team_finished", table_name="task")
    op.drop_index("ix_approval_team_created", table_name="approval")
    op.drop_table("scheduler_lease")
    op.drop_table("digest_schedule")
    op.drop_index("ix_scheduled_post_team", table_name="scheduled_post")
    op.drop_index("ix_scheduled_post_state", table_name="scheduled_post")
    op.drop_table("scheduled_post")
