"""``cancel``: release a task's hold and withdraw its pending approval request; a charge is never cancelled."""

from __future__ import annotations

from datetime import datetime

from bot.credits_file import CreditsConfig
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import TaskEvent, TaskStatus, is_open, next_approval_status
from bot.domain.task_commands import CancelCommand
from bot.services.balances.team_balances import open_team_cycle
from bot.services.tasks.holds import release_credits
from bot.services.tasks.run_and_done import own_task
from bot.services.workspace.members import Member
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.store import tasks as task_store
from bot.store.db import Database


class CaptureExistsError(UserFacingError):
    """A charged task: a charge is a fact and is never cancelled; an admin corrects it with adjust."""

    def __init__(self, number: int, cost: int, team: str, by: str | None = None) -> None:
        self.number, self.cost = number, cost
        when = f"by {by}" if by else "when it was reported done"
        super().__init__(
            f"Task #{number} was charged {cost:,} credits {when}; a charge can't be "
            f"cancelled. If that figure is wrong, an admin can correct the balance: "
            f"`/credits admin adjust {team} <+N/-N> <reason>`."
        )


def cancel_task(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, command: CancelCommand, now: datetime
) -> tuple[TaskRecord, int, ApprovalRecord | None]:
    """Release a task's hold; a pending approval request is withdrawn with it."""
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        task = own_task(session, workspace_id=workspace_id, member=member, number=command.number, verb="cancel")
        if task.actual_cost is not None and task.status == TaskStatus.DONE:
            raise CaptureExistsError(task.number or command.number, task.actual_cost, task.team)
        if task.charge_count:
            raise CaptureExistsError(task.number or command.number, task.charged, task.team, by="Keter Labs")
        if not is_open(task.status):
            raise UserFacingError(f"Task #{task.number} is already {task.status}; nothing to cancel.")
        assert task.id is not None
        approval = task_store.pending_approval_for(session, task_id=task.id)
        released = release_credits(
            session,
            config,
            row,
            task,
            amount=task.held,
            event=TaskEvent.CANCEL,
            key=f"release:cancel:{task.id}",
            now=now,
        )
        if approval is not None:
            approval.status = next_approval_status(approval.status, TaskEvent.CANCEL)
            approval.decided_by, approval.decided_at = member.user_id, now
            session.add(approval)
        session.flush()
        return TaskRecord.of(task), released, ApprovalRecord.of(approval) if approval else None
