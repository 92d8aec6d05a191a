"""Keter Labs' charge feed: raw charges, webhook deliveries, balance snapshots; projects on tasks and entries

Revision ID: 0009_charge_feed
Revises: 0008_team_timezone
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_charge_feed"
down_revision: str | None = "0008_team_timezone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("project", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("charged", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("charge_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_charge_at", sa.DateTime(timezone=True), nullable=True))
    # ledger_entry is append-only (triggers refuse UPDATE); adding nullable columns rewrites no row.
    op.add_column("ledger_entry", sa.Column("project", sa.String(length=80), nullable=True))
    op.add_column("ledger_entry", sa.Column("charge_kind", sa.String(length=16), nullable=True))
    op.create_table(
        "keter_charge",
        sa.Column("workspace_id", sa.String(length=32), primary_key=True),
        sa.Column("charge_id", sa.String(length=120), primary_key=True),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("member", sa.String(length=32), nullable=True),
        sa.Column("user_email", sa.String(length=254), nullable=True),
        sa.Column("tool", sa.String(length=40), nullable=False),
        sa.Column("quality", sa.String(length=40), nullable=True),
        sa.Column("variants", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version_kept", sa.Integer(), nullable=True),
        sa.Column("project", sa.String(length=80), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_keter_charge_task", "keter_charge", ["workspace_id", "task_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("webhook_id", sa.String(length=200), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_delivery_received_at", "webhook_delivery", ["received_at"])
    op.create_table(
        "keter_balance",
        sa.Column("workspace_id", sa.String(length=32), primary_key=True),
        sa.Column("team", sa.String(length=40), primary_key=True),
        sa.Column("plan_credits", sa.Integer(), nullable=False),
        sa.Column("extra_credits", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("difference", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("alerted_difference", sa.Integer(), nullable=True),
    )


    op.create_table(
        "history_rollup",
        sa.Column("workspace_id", sa.String(length=32), primary_key=True),
        sa.Column("team", sa.String(length=40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("member", sa.String(length=32), primary_key=True),
        sa.Column("tool", sa.String(length=40), primary_key=True),
        sa.Column("project", sa.String(length=80), primary_key=True),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
    )
    op.execute(BACKFILL.format(day=DAY[op.get_bind().dialect.name]))


# Totals of the entries the history shows (grants, extra, captures, charges, refunds, adjustments that move
# credits), by UTC day: the same rows ``bot.store.ledger`` keeps for every new entry.
DAY = {"sqlite": "date(created_at)", "postgresql": "(created_at AT TIME ZONE 'UTC')::date"}
BACKFILL = """
INSERT INTO history_rollup (workspace_id, team, day, member, tool, project, spent, retries, entries)
SELECT workspace_id, team, {day}, coalesce(member, ''), coalesce(tool, ''), coalesce(project, ''),
       sum(spent_delta), sum(CASE WHEN charge_kind = 'retry' THEN spent_delta ELSE 0 END), count(*)
FROM ledger_entry
WHERE kind IN ('grant', 'extra', 'capture', 'charge', 'refund', 'adjustment')
  AND (spent_delta <> 0 OR plan_delta + extra_delta <> 0)
GROUP BY workspace_id, team, {day}, coalesce(member, ''), coalesce(tool, ''), coalesce(project, '')
"""


def downgrade() -> None:
    op.drop_table("history_rollup")
    op.drop_table("keter_balance")
    op.drop_index("ix_webhook_delivery_received_at", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_keter_charge_task", table_name="keter_charge")
    op.drop_table("keter_charge")
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("charge_kind")
        batch.drop_column("project")
    with op.batch_alter_table("task") as batch:
        batch.drop_column("last_charge_at")
        batch.drop_column("charge_count")
        batch.drop_column("charged")
        batch.drop_column("project")
