"""rollups for the quote's reads: member_usage (per member and UTC hour), task_rollup (finished tasks per day);
ix_task_team_project (a partial index for the balance's project budgets)

Revision ID: 0011_rollups
Revises: 0010_budgets

Both are derived data, created and backfilled here from the ledger and the tasks in one statement
each; from then on ``bot.store`` keeps them in the transaction of every write that moves them.
Only new tables and an INSERT … SELECT: ``ledger_entry`` (and its triggers) is left as it is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_rollups"
down_revision: str | None = "0010_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite stores UTC datetimes as naive 'YYYY-MM-DD HH:MM:SS.ffffff' text; PostgreSQL as timestamptz.
HOUR = {
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', created_at)",
    "postgresql": "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}
DAY = {"sqlite": "date(finished_at)", "postgresql": "(finished_at AT TIME ZONE 'UTC')::date"}

USAGE_BACKFILL = """
INSERT INTO member_usage (workspace_id, team, member, hour, amount)
SELECT workspace_id, team, member, {hour}, sum(held_delta + spent_delta)
FROM ledger_entry
WHERE member IS NOT NULL AND kind IN ('hold', 'capture', 'release', 'charge', 'refund', 'adjustment')
GROUP BY workspace_id, team, member, {hour}
"""
TASK_BACKFILL = """
INSERT INTO task_rollup (workspace_id, team, tool, day, quality, variants, duration_seconds, retries_used,
                         actual_cost, tasks, kept_tasks, kept)
SELECT workspace_id, team, tool, {day}, quality, variants, coalesce(duration_seconds, -1),
       coalesce(retries_used, -1), coalesce(actual_cost, -1), count(*), count(kept), coalesce(sum(kept), 0)
FROM task
WHERE status = 'done' AND finished_at IS NOT NULL
GROUP BY workspace_id, team, tool, {day}, quality, variants, coalesce(duration_seconds, -1),
         coalesce(retries_used, -1), coalesce(actual_cost, -1)
"""


def upgrade() -> None:
    op.create_table(
        "member_usage",
        sa.Column("workspace_id", sa.String(length=32), primary_key=True),
        sa.Column("team", sa.String(length=40), primary_key=True),
        sa.Column("member", sa.String(length=32), primary_key=True),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,  # stored in key order on SQLite: a window is one range read, no lookups
    )
    op.create_table(
        "task_rollup",
        sa.Column("workspace_id", sa.String(length=32), primary_key=True),
        sa.Column("team", sa.String(length=40), primary_key=True),
        sa.Column("tool", sa.String(length=40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("quality", sa.String(length=40), primary_key=True),
        sa.Column("variants", sa.Integer(), primary_key=True),
        sa.Column("duration_seconds", sa.Integer(), primary_key=True),
        sa.Column("retries_used", sa.Integer(), primary_key=True),
        sa.Column("actual_cost", sa.Integer(), primary_key=True),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("kept_tasks", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    # The team's tasks with a project, for the balance's project budgets: a partial index (creating an
    # index rebuilds nothing).
    op.create_index(
        "ix_task_team_project",
        "task",
        ["workspace_id", "team", "project"],
        sqlite_where=sa.text("project IS NOT NULL"),
        postgresql_where=sa.text("project IS NOT NULL"),
    )
    dialect = op.get_bind().dialect.name
    op.execute(USAGE_BACKFILL.format(hour=HOUR[dialect]))
    op.execute(TASK_BACKFILL.format(day=DAY[dialect]))


def downgrade() -> None:
    op.drop_index("ix_task_team_project", table_name="task")
    op.drop_table("task_rollup")
    op.drop_table("member_usage")
