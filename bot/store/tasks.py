"""Task repository: the finished tasks that give a team its own retry rate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.pricing import RetryHistory
from bot.store.models import Task

FINISHED = "done"


def retry_history(session: Session, *, workspace_id: str, team: str, tool: str, since: datetime) -> RetryHistory:
    """Finished tasks of a tool since ``since`` and the retries they took."""
    statement = select(func.count(), func.coalesce(func.sum(Task.retries_used), 0)).where(
        Task.workspace_id == workspace_id,
        Task.team == team,
        Task.tool == tool,
        Task.status == FINISHED,
        col(Task.finished_at) >= since,
    )
    tasks, retries = session.exec(statement).one()
    return RetryHistory(tasks=int(tasks or 0), retries=int(retries or 0))
