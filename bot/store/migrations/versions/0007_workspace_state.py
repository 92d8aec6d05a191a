"""workspace install state; approval post and announce attempts

Revision ID: 0007_workspace_state
Revises: 0005_stale_holds
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_workspace_state"
down_revision: str | None = "0005_stale_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_state",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id"),
    )
    with op.batch_alter_table("approval") as batch:
        batch.add_column(sa.Column("post_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("posting_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("announce_attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("approval") as batch:
        batch.drop_column("announce_attempts")
        batch.drop_column("posting_at")
        batch.drop_column("post_attempts")
    op.drop_table("workspace_state")
