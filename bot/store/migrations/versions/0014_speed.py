"""task_rollup_week: finished tasks per UTC week (from Monday), tool and price shape

Revision ID: 0014_speed
Revises: 0013_retry_credits

Derived data, like ``task_rollup``: backfilled here from ``task_rollup`` in one statement, then kept by
``bot.store.rollups`` in the transaction of every flush that finishes, changes or reopens a task. A
quote's 30 days then read about five weeks and a few days per price shape instead of thirty days.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_speed"
down_revision: str | None = "0013_retry_credits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The Monday of the row's UTC day (SQLite: %w is 0 on Sunday).
MONDAY = {
    "sqlite": "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')",
    "postgresql": "CAST(date_trunc('week', day) AS date)",
}
SHAPE = "quality, variants, duration_seconds, retries_used, actual_cost"
BACKFILL = f"""
INSERT INTO task_rollup_week (workspace_id, team, tool, week, {SHAPE}, tasks, kept_tasks, kept)
SELECT workspace_id, team, tool, {{monday}}, {SHAPE}, sum(tasks), sum(kept_tasks), sum(kept)
FROM task_rollup
GROUP BY workspace_id, team, tool, {{monday}}, {SHAPE}
"""


def upgrade() -> None:
    op.create_table(
        "task_rollup_week",
        sa.Column("workspace_id", sa.String(length=32), primary_key=True),
        sa.Column("team", sa.String(length=40), primary_key=True),
        sa.Column("tool", sa.String(length=40), primary_key=True),
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("quality", sa.String(length=40), primary_key=True),
        sa.Column("variants", sa.Integer(), primary_key=True),
        sa.Column("duration_seconds", sa.Integer(), primary_key=True),
        sa.Column("retries_used", sa.Integer(), primary_key=True),
        sa.Column("actual_cost", sa.Integer(), primary_key=True),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("kept_tasks", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,  # stored in key order on SQLite: a window is one range read, no lookups
    )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL.format(monday=MONDAY["postgresql" if dialect == "postgresql" else "sqlite"]))


def downgrade() -> None:
    op.drop_table("task_rollup_week")
