"""Task and approval repository: numbered tasks, their approvals, and the team's retry history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.lifecycle import OPEN_TASK_STATUSES, REFUSED_TASK_STATUSES, ApprovalStatus, TaskStatus
from bot.domain.pricing import RetryHistory
from bot.store.models import Approval, AuditEntry, Task


def retry_history(session: Session, *, workspace_id: str, team: str, tool: str, since: datetime) -> RetryHistory:
    """Finished tasks of a tool since ``since`` and the retries they took."""
    statement = select(func.count(), func.coalesce(func.sum(Task.retries_used), 0)).where(
        Task.workspace_id == workspace_id,
        Task.team == team,
        Task.tool == tool,
        Task.status == TaskStatus.DONE,
        col(Task.finished_at) >= since,
    )
    tasks, retries = session.exec(statement).one()
    return RetryHistory(tasks=int(tasks or 0), retries=int(retries or 0))


def next_task_number(session: Session, *, workspace_id: str, team: str) -> int:
    """The team's next short task number (the caller holds the team's write lock)."""
    statement = select(func.max(Task.number)).where(Task.workspace_id == workspace_id, Task.team == team)
    return int(session.exec(statement).one() or 0) + 1


def task_by_number(session: Session, *, workspace_id: str, team: str, number: int) -> Task | None:
    """A task by its short number within the team."""
    statement = select(Task).where(Task.workspace_id == workspace_id, Task.team == team, Task.number == number)
    return session.exec(statement).first()


def recent_same_task(
    session: Session, *, workspace_id: str, team: str, requester: str, fingerprint: str, since: datetime
) -> Task | None:
    """The member's latest identical task since ``since`` that was not cancelled or refused."""
    statement = (
        select(Task)
        .where(
            Task.workspace_id == workspace_id,
            Task.team == team,
            Task.requester == requester,
            Task.fingerprint == fingerprint,
            col(Task.created_at) >= since,
            col(Task.status).not_in(sorted(REFUSED_TASK_STATUSES)),
        )
        .order_by(col(Task.created_at).desc())
    )
    return session.exec(statement).first()


def open_tasks(session: Session, *, workspace_id: str, team: str, requester: str) -> list[Task]:
    """A member's tasks that still hold credits."""
    statement = (
        select(Task)
        .where(
            Task.workspace_id == workspace_id,
            Task.team == team,
            Task.requester == requester,
            col(Task.status).in_(sorted(OPEN_TASK_STATUSES)),
        )
        .order_by(col(Task.number))
    )
    return list(session.exec(statement).all())


def pending_approval_for(session: Session, *, task_id: int) -> Approval | None:
    """The task's approval still waiting for a decision, if any."""
    statement = select(Approval).where(Approval.task_id == task_id, Approval.status == ApprovalStatus.PENDING)
    return session.exec(statement).first()


def due_approvals(session: Session, *, now: datetime) -> list[Approval]:
    """Pending approvals whose time is up (any workspace)."""
    statement = select(Approval).where(Approval.status == ApprovalStatus.PENDING, col(Approval.expires_at) <= now)
    return list(session.exec(statement).all())


def pending_approvals(session: Session, *, workspace_id: str | None = None, now: datetime) -> list[Approval]:
    """Requests still waiting for a decision and not yet past their time, oldest first."""
    statement = select(Approval).where(Approval.status == ApprovalStatus.PENDING, col(Approval.expires_at) > now)
    if workspace_id is not None:
        statement = statement.where(Approval.workspace_id == workspace_id)
    return list(session.exec(statement.order_by(col(Approval.created_at), col(Approval.id))).all())


def unannounced_approvals(session: Session) -> list[Approval]:
    """Decided approvals whose Slack message was not yet updated (a crash, or a Slack error)."""
    statement = select(Approval).where(
        Approval.status != ApprovalStatus.PENDING,
        col(Approval.announced).is_(False),
        col(Approval.message_ts).is_not(None),
    )
    return list(session.exec(statement).all())


def add_audit(
    session: Session, *, workspace_id: str, actor: str, action: str, target: str, details: str, now: datetime
) -> None:
    """Record an admin change."""
    session.add(
        AuditEntry(
            workspace_id=workspace_id, actor=actor, action=action, target=target, details=details, created_at=now
        )
    )
