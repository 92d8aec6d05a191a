"""Task and approval repository: numbered tasks and their approvals (the retry history is ``rollups.tool_history``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.lifecycle import OPEN_TASK_STATUSES, REFUSED_TASK_STATUSES, ApprovalKind, ApprovalStatus, TaskStatus
from bot.store.tables.tasks import Approval, Task


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


def same_task_started_after(
    session: Session, *, workspace_id: str, team: str, requester: str, fingerprint: str, after_id: int
) -> Task | None:
    """The member's first identical task created after task ``after_id`` (any status): a second one already."""
    statement = (
        select(Task)
        .where(
            Task.workspace_id == workspace_id,
            Task.team == team,
            Task.requester == requester,
            Task.fingerprint == fingerprint,
            col(Task.id) > after_id,
        )
        .order_by(col(Task.id))
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


def held_tasks_created_before(session: Session, *, workspace_id: str, cutoff: datetime) -> list[Task]:
    """Tasks still held (reserved, unreported) that were reserved before ``cutoff``, oldest first."""
    statement = (
        select(Task)
        .where(Task.status == TaskStatus.HELD, col(Task.created_at) <= cutoff, Task.workspace_id == workspace_id)
        .order_by(col(Task.created_at), col(Task.id))
    )
    return list(session.exec(statement).all())


def pending_approval_for(session: Session, *, task_id: int) -> Approval | None:
    """The task's approval still waiting for a decision, if any."""
    statement = select(Approval).where(Approval.task_id == task_id, Approval.status == ApprovalStatus.PENDING)
    return session.exec(statement).first()


def pending_ask(session: Session, *, workspace_id: str, team: str, member: str, kind: ApprovalKind) -> Approval | None:
    """The member's request for more of this kind (a limit raise, extra credits) still waiting for a decision."""
    statement = select(Approval).where(
        Approval.workspace_id == workspace_id,
        Approval.team == team,
        Approval.requester == member,
        Approval.kind == kind,
        Approval.status == ApprovalStatus.PENDING,
    )
    return session.exec(statement).first()


def due_approvals(session: Session, *, now: datetime) -> list[Approval]:
    """Pending approvals whose time is up (any workspace)."""
    statement = select(Approval).where(Approval.status == ApprovalStatus.PENDING, col(Approval.expires_at) <= now)
    return list(session.exec(statement).all())


def approval_for_update(session: Session, approval_id: int) -> Approval | None:
    """An approval, its row locked until the transaction ends (PostgreSQL; SQLite's write lock covers it)."""
    statement = select(Approval).where(Approval.id == approval_id).with_for_update()
    return session.exec(statement).first()


def unposted_approvals(session: Session, *, before: datetime) -> list[Approval]:
    """Requests never shown in Slack (no message ts, not announced) whose last try began before ``before``."""
    started = func.coalesce(col(Approval.posting_at), col(Approval.created_at))
    statement = select(Approval).where(
        col(Approval.message_ts).is_(None), col(Approval.announced).is_(False), started < before
    )
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


def task_request(session: Session, *, task_id: int) -> Approval | None:
    """The approval request a task was started with (the newest, if several), whatever its status."""
    statement = (
        select(Approval)
        .where(Approval.task_id == task_id, Approval.kind == ApprovalKind.TASK)
        .order_by(col(Approval.id).desc())
    )
    return session.exec(statement).first()
