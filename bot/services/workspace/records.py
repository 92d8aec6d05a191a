"""Plain, session-free snapshots of tasks and approvals, for the Slack layer to render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.lifecycle import ApprovalKind, ApprovalStatus, TaskStatus
from bot.store.tables.tasks import Approval, Task


@dataclass(frozen=True)
class TaskRecord:
    """A task as the member sees it."""

    id: int
    number: int
    team: str
    requester: str
    tool: str
    quality: str
    variants: int
    duration_seconds: int | None
    retries_planned: int | None
    quoted_cost: int
    held: int
    status: TaskStatus
    actual_cost: int | None
    retries_used: int | None
    kept: int | None
    note: str | None
    created_at: datetime
    charged: int = 0  # what Keter Labs' charges naming it add up to so far

    @classmethod
    def of(cls, task: Task) -> TaskRecord:
        assert task.id is not None and task.number is not None
        return cls(
            task.id,
            task.number,
            task.team,
            task.requester,
            task.tool,
            task.quality,
            task.variants,
            task.duration_seconds,
            task.retries_planned,
            task.quoted_cost,
            task.held,
            TaskStatus(task.status),
            task.actual_cost,
            task.retries_used,
            task.kept,
            task.note,
            task.created_at,
            task.charged,
        )


@dataclass(frozen=True)
class ApprovalRecord:
    """An approval request and its outcome."""

    id: int
    workspace_id: str
    team: str
    task_id: int | None  # None: a request for more (a limit raise, extra credits)
    kind: ApprovalKind
    requester: str
    amount: int
    reasons: str
    details: str
    status: ApprovalStatus
    channel_id: str | None
    message_ts: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime
    created_at: datetime
    post_attempts: int = 0
    posting_at: datetime | None = None

    @classmethod
    def of(cls, approval: Approval) -> ApprovalRecord:
        assert approval.id is not None
        return cls(
            approval.id,
            approval.workspace_id,
            approval.team,
            approval.task_id,
            ApprovalKind(approval.kind),
            approval.requester,
            approval.amount,
            approval.reasons,
            approval.details,
            ApprovalStatus(approval.status),
            approval.channel_id,
            approval.message_ts,
            approval.decided_by,
            approval.decided_at,
            approval.decision_note,
            approval.expires_at,
            approval.created_at,
            approval.post_attempts,
            approval.posting_at,
        )
