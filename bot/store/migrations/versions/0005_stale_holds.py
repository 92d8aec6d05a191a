"""stale holds and the audit trail of decisions: a team on audit entries, held tasks found by age

Revision ID: 0005_stale_holds
Revises: 0004_ledger_facts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_stale_holds"
down_revision: str | None = "0004_ledger_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("team", sa.String(length=40), nullable=True))
    op.create_index("ix_audit_entry_team_id", "audit_entry", ["workspace_id", "team", "id"])
    op.create_index("ix_task_status_created", "task", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_task_status_created", table_name="task")
    op.drop_index("ix_audit_entry_team_id", table_name="audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("team")
