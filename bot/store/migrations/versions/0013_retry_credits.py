"""ledger_entry.retry_credits: what of a capture's spend went on retries, for the charge history's footer

Revision ID: 0013_retry_credits
Revises: 0011_rollups

Older captures keep no figure (the ledger is append-only: its triggers refuse UPDATE), so the cost of
retries counts them as none; Keter Labs' ``retry`` charges are counted from their kind, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_retry_credits"
down_revision: str | None = "0011_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column is added in place (no table rebuild), so the append-only triggers stay.
    op.add_column("ledger_entry", sa.Column("retry_credits", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Not batch mode: SQLite (3.35+) drops a column in place, so the append-only triggers stay.
    op.drop_column("ledger_entry", "retry_credits")
