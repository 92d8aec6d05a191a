"""a team's timezone set with ``/credits admin team … tz=``

Revision ID: 0008_team_timezone
Revises: 0007_workspace_state
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_team_timezone"
down_revision: str | None = "0007_workspace_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team_setting") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team_setting") as batch:
        batch.drop_column("timezone")
