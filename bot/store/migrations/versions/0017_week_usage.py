"""ledger_entry.week_usage: what an entry adds to its member's week when that is not held + spent

Revision ID: 0017_week_usage
Revises: 0016_carried

Closing a hold reserved before the week began (a cancel, or ``done`` below the hold) must not lower
this week's use; such an entry stores its own contribution (only what it spent above the hold). Older
entries keep none and count as before (the ledger is append-only: nothing is rewritten).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_week_usage"
down_revision: str | None = "0016_carried"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column is added in place (no table rebuild), so the append-only triggers stay.
    op.add_column("ledger_entry", sa.Column("week_usage", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Not batch mode: SQLite (3.35+) drops a column in place, so the append-only triggers stay.
    op.drop_column("ledger_entry", "week_usage")
