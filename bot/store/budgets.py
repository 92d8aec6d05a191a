"""Project budgets and what each project spent and holds in a cycle; requests for more and limit raises."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from bot.domain.budgets import ProjectUse
from bot.domain.lifecycle import OPEN_TASK_STATUSES, ApprovalKind, ApprovalStatus, TaskStatus
from bot.store.models import Approval, CreditAsk, ProjectBudget, Task


def set_budget(
    session: Session, *, workspace_id: str, team: str, project: str, cycle: date, credits: int | None, now: datetime
) -> int | None:
    """Set (or with None remove) a project's budget for the cycle; returns the budget it replaces."""
    row = session.get(ProjectBudget, (workspace_id, team, project, cycle))
    before = row.credits if row is not None else None
    if credits is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            ProjectBudget(
                workspace_id=workspace_id,
                team=team,
                project=project,
                cycle_start=cycle,
                credits=credits,
                updated_at=now,
            )
        )
    else:
        row.credits, row.updated_at = credits, now
        session.add(row)
    session.flush()
    return before


def project_uses(
    session: Session, *, workspace_id: str, team: str, cycle: date, since: datetime, project: str | None = None
) -> dict[str, ProjectUse]:
    """Each project of the team with a budget this cycle or a task: its budget, spent since ``since``, held now.

    One grouped query over the team's tasks with a project (charged since the cycle began, or open) and
    one over its budgets; ``project`` narrows both to one.
    """
    spent = case(
        (col(Task.status) == TaskStatus.DONE, func.coalesce(col(Task.actual_cost), 0)),
        else_=0,
    )
    held = case((col(Task.status).in_([s.value for s in OPEN_TASK_STATUSES]), col(Task.held)), else_=0)
    statement = (
        select_columns(col(Task.project), func.sum(spent), func.sum(held))
        .where(
            col(Task.workspace_id) == workspace_id,
            col(Task.team) == team,
            col(Task.project).is_not(None),
            or_(
                col(Task.status).in_([s.value for s in OPEN_TASK_STATUSES]),
                (col(Task.status) == TaskStatus.DONE) & (col(Task.finished_at) >= since),
            ),
        )
        .group_by(col(Task.project))
    )
    budgets = select(ProjectBudget).where(
        ProjectBudget.workspace_id == workspace_id, ProjectBudget.team == team, ProjectBudget.cycle_start == cycle
    )
    if project is not None:
        statement = statement.where(col(Task.project) == project)
        budgets = budgets.where(ProjectBudget.project == project)
    found = {
        str(name): ProjectUse(str(name), None, int(charged or 0), int(holding or 0))
        for name, charged, holding in session.execute(statement)
    }
    for row in session.exec(budgets):
        use = found.get(row.project, ProjectUse(row.project, None))
        found[row.project] = ProjectUse(row.project, row.credits, use.spent, use.held)
    return dict(sorted(found.items()))


def approved_raises(session: Session, *, workspace_id: str, team: str, member: str, today: date) -> list[CreditAsk]:
    """The member's approved limit raises that still apply today, newest first."""
    statement = (
        select(CreditAsk)
        .join(Approval, col(Approval.id) == col(CreditAsk.approval_id))
        .where(
            CreditAsk.workspace_id == workspace_id,
            CreditAsk.team == team,
            CreditAsk.member == member,
            Approval.kind == ApprovalKind.LIMIT_RAISE,
            Approval.status == ApprovalStatus.APPROVED,
            col(CreditAsk.until) >= today,
        )
        .order_by(col(CreditAsk.approval_id).desc())
    )
    return list(session.exec(statement))
