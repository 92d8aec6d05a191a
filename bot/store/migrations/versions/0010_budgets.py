"""project budgets and asking for more: project_budget, credit_ask, approvals without a task, task.project

Revision ID: 0010_budgets
Revises: 0009_charge_feed

``task.project`` is also added by the charge-feed migration (0009_charge_feed) in another branch, in
the same shape; this one adds it only when it is missing, so the two chain in either order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_budgets"
down_revision: str | None = "0009_charge_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _task_has_project() -> bool:
    return "project" in {column["name"] for column in sa.inspect(op.get_bind()).get_columns("task")}


def upgrade() -> None:
    if not _task_has_project():
        with op.batch_alter_table("task") as batch:
            batch.add_column(sa.Column("project", sa.String(length=80), nullable=True))
    with op.batch_alter_table("approval") as batch:
        batch.alter_column("task_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "project_budget",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("project", sa.String(length=80), nullable=False),
        sa.Column("cycle_start", sa.Date(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "team", "project", "cycle_start"),
    )
    op.create_table(
        "credit_ask",
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("member", sa.String(length=32), nullable=False),
        sa.Column("task_limit", sa.Integer(), nullable=True),
        sa.Column("weekly_limit", sa.Integer(), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("run_command", sa.String(length=400), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("bought_credits", sa.Integer(), nullable=True),
        sa.Column("bought_by", sa.String(length=32), nullable=True),
        sa.Column("bought_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("approval_id"),
    )
    op.create_index("ix_credit_ask_member", "credit_ask", ["workspace_id", "team", "member"])


def downgrade() -> None:
    op.drop_index("ix_credit_ask_member", table_name="credit_ask")
    op.drop_table("credit_ask")
    op.drop_table("project_budget")
    with op.batch_alter_table("approval") as batch:
        batch.alter_column("task_id", existing_type=sa.Integer(), nullable=False)
    # task.project stays: 0009_charge_feed owns it once the branches are merged.
