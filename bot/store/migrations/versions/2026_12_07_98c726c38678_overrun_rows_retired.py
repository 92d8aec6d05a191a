"""overrun rows retired: settled overrun requests become task requests, an open one stops the upgrade

Revision ID: 98c726c38678
Revises: 0017_week_usage
Create Date: 2026-12-07 13:34:58.810157

Before 0004_ledger_facts, ``done`` above the hold and beyond the member's limits held the extra credits
and waited for an approver (task status ``overrun``, approval kind ``overrun``). Since then such a cost
is charged at once and flagged, and the bot no longer knows that status or kind: a row still carrying
one would fail to load. A settled overrun request becomes a ``task`` request (its status, amount and
task unchanged; its audit entry still names it ``overrun``). A task still waiting in ``overrun`` (its
request pending) cannot be settled here, since that writes ledger entries: the upgrade stops and says
so; decide it, or let the approvals sweep expire it, with the release before this one, then upgrade.
Downgrade changes nothing back (which task requests were overrun ones is not kept).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "98c726c38678"
down_revision: str | None = "0017_week_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "SELECT count(*) FROM task WHERE status = 'overrun'"
PENDING = "SELECT count(*) FROM approval WHERE kind = 'overrun' AND status = 'pending'"


def upgrade() -> None:
    bind = op.get_bind()
    waiting = max(bind.execute(sa.text(OPEN)).scalar() or 0, bind.execute(sa.text(PENDING)).scalar() or 0)
    if waiting:
        raise RuntimeError(
            f"{waiting} task(s) still wait for the approval of an extra cost (status 'overrun', from before "
            "migration 0004_ledger_facts), which this release no longer decides: decide them, or let them "
            "expire, with the previous release, then upgrade again"
        )
    op.execute("UPDATE approval SET kind = 'task' WHERE kind = 'overrun'")


def downgrade() -> None:
    pass
