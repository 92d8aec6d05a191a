"""Project budgets and what each project spent and holds in a cycle; requests for more and limit raises."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from bot.domain.budgets import ProjectUse
from bot.domain.lifecycle import OPEN_TASK_STATUSES, ApprovalKind, ApprovalStatus, TaskStatus
from bot.store.constants import one_of
from bot.store.tables.tasks import Approval, CreditAsk, Task
from bot.store.tables.workspace import ProjectBudget


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


def team_project_names(session: Session, *, workspace_id: str, team: str) -> set[str]:
    """Every project name the team has used: on a task (any time) or with a budget (any cycle)."""
    tasks = (
        select_columns(col(Task.project))
        .where(col(Task.workspace_id) == workspace_id, col(Task.team) == team, col(Task.project).is_not(None))
        .distinct()
    )
    budgets = (
        select_columns(col(ProjectBudget.project))
        .where(col(ProjectBudget.workspace_id) == workspace_id, col(ProjectBudget.team) == team)
        .distinct()
    )
    connection = session.connection()
    return {str(name) for (name,) in connection.execute(tasks)} | {str(n) for (n,) in connection.execute(budgets)}


_SPENT = case((col(Task.status) == TaskStatus.DONE, func.coalesce(col(Task.actual_cost), 0)), else_=0)
_HELD = case((one_of(col(Task.status), [s.value for s in OPEN_TASK_STATUSES]), col(Task.held)), else_=0)
# Built once (``bindparam``) and run on the Core connection as tuples: every balance runs them.
_PROJECT_USES = (
    select_columns(col(Task.project), func.sum(_SPENT), func.sum(_HELD))
    .where(
        col(Task.workspace_id) == bindparam("workspace_id"),
        col(Task.team) == bindparam("team"),
        col(Task.project).is_not(None),  # the partial index ix_task_team_project holds only these
        or_(
            one_of(col(Task.status), [s.value for s in OPEN_TASK_STATUSES]),
            (col(Task.status) == TaskStatus.DONE) & (col(Task.finished_at) >= bindparam("since")),
        ),
    )
    .group_by(col(Task.project))
)
_BUDGETS = select_columns(col(ProjectBudget.project), col(ProjectBudget.credits)).where(
    col(ProjectBudget.workspace_id) == bindparam("workspace_id"),
    col(ProjectBudget.team) == bindparam("team"),
    col(ProjectBudget.cycle_start) == bindparam("cycle"),
)
_ONE_PROJECT_USE = _PROJECT_USES.where(col(Task.project) == bindparam("project"))
_ONE_BUDGET = _BUDGETS.where(col(ProjectBudget.project) == bindparam("project"))


def project_uses(
    session: Session, *, workspace_id: str, team: str, cycle: date, since: datetime, project: str | None = None
) -> dict[str, ProjectUse]:
    """Each project of the team with a budget this cycle or a task: its budget, spent since ``since``, held now.

    One grouped query over the team's tasks with a project (charged since the cycle began, or open) and
    one over its budgets; ``project`` narrows both to one.
    """
    parameters: dict[str, object] = {"workspace_id": workspace_id, "team": team, "since": since, "cycle": cycle}
    uses, budgets = _PROJECT_USES, _BUDGETS
    if project is not None:
        parameters["project"] = project
        uses, budgets = _ONE_PROJECT_USE, _ONE_BUDGET
    connection = session.connection()
    found = {
        str(name): ProjectUse(str(name), None, int(charged or 0), int(holding or 0))
        for name, charged, holding in connection.execute(uses, parameters)
    }
    for name, credits in connection.execute(budgets, parameters):
        use = found.get(name, ProjectUse(name, None))
        found[name] = ProjectUse(name, credits, use.spent, use.held)
    return dict(sorted(found.items()))


class LimitRaise(NamedTuple):
    """What an approved limit raise changes, and the last day it lasts."""

    task_limit: int | None
    weekly_limit: int | None
    until: date | None


# Built once and read as tuples: every quote runs it (``bindparam`` values per call); loading
# ``CreditAsk`` objects cost the ORM's instance machinery even when no row came back.
_APPROVED_RAISES = (
    select_columns(col(CreditAsk.task_limit), col(CreditAsk.weekly_limit), col(CreditAsk.until))
    .join(Approval, col(Approval.id) == col(CreditAsk.approval_id))
    .where(
        col(CreditAsk.workspace_id) == bindparam("workspace_id"),
        col(CreditAsk.team) == bindparam("team"),
        col(CreditAsk.member) == bindparam("member"),
        col(Approval.kind) == ApprovalKind.LIMIT_RAISE,
        col(Approval.status) == ApprovalStatus.APPROVED,
        col(CreditAsk.until) >= bindparam("today"),
    )
    .order_by(col(CreditAsk.approval_id).desc())
)


def approved_raises(session: Session, *, workspace_id: str, team: str, member: str, today: date) -> list[LimitRaise]:
    """The member's approved limit raises that still apply today, newest first."""
    parameters = {"workspace_id": workspace_id, "team": team, "member": member, "today": today}
    return [LimitRaise(*row) for row in session.connection().execute(_APPROVED_RAISES, parameters)]
