"""team_balance.carried and renewed_at: plan credits kept at the last renewal only to back older holds

Revision ID: 0016_carried
Revises: 0014_speed

When such a hold closes, the credits it no longer needs lapse (a ``lapse`` entry). Rows renewed before
this revision carry nothing (0): their carried credits stay, as they did before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_carried"
down_revision: str | None = "0014_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # team_balance has no triggers, so batch mode (a rebuild on SQLite) is safe.
    with op.batch_alter_table("team_balance") as batch:
        batch.add_column(sa.Column("carried", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team_balance") as batch:
        batch.drop_column("renewed_at")
        batch.drop_column("carried")
