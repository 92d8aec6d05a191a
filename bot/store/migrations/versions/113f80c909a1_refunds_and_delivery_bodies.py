"""keter_charge.refunds and webhook_delivery.body_hash: what a refund gives back, what a delivery carried

Revision ID: 113f80c909a1
Revises: 98c726c38678

A refund names the charge it gives credits back for (``refunds``), so a refund of a charge never
recorded, of another team's, or of more than was charged can be refused. A delivery keeps the SHA-256
of its body, so the same ``webhook-id`` with another body is told apart from a redelivery. Both are
nullable: rows written before keep none (a refund recorded before named no charge).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "113f80c909a1"
down_revision: str | None = "98c726c38678"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("keter_charge", sa.Column("refunds", sa.String(length=120), nullable=True))
    op.create_index("ix_keter_charge_refunds", "keter_charge", ["workspace_id", "refunds"])
    op.add_column("webhook_delivery", sa.Column("body_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_delivery", "body_hash")
    op.drop_index("ix_keter_charge_refunds", table_name="keter_charge")
    op.drop_column("keter_charge", "refunds")
