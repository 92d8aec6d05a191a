"""``db check``'s ledger checks: running balances against their entries, task holds against their tasks."""

from __future__ import annotations

from sqlalchemy import case, func
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from bot.domain.ledger import EntryKind
from bot.store.ledger_reads import as_balance, ledger_sum
from bot.store.tables.ledger import LedgerEntry, TeamBalance
from bot.store.tables.tasks import Task


def check_running_balances(session: Session) -> list[str]:
    """Every team whose running balance differs from the sum of its ledger entries (should be none)."""
    problems = []
    for row in session.exec(select(TeamBalance)).all():
        truth = ledger_sum(session, workspace_id=row.workspace_id, team=row.team)
        if truth != as_balance(row):
            problems.append(f"{row.workspace_id}/{row.team}: running {as_balance(row)} but ledger {truth}")
    return problems


def check_task_holds(session: Session, *, workspace_id: str | None = None) -> list[str]:
    """Every task whose ledger entries and own figures disagree (should be none).

    A task's holds minus its releases and capture must equal what it still holds (nothing once it is
    closed); a finished task's entries spend exactly its recorded cost, with at most one capture (its
    member's report; Keter Labs' charges and their corrections are the other entries); an open or
    cancelled one has no capture.
    ``workspace_id`` limits the check to one workspace.
    """
    is_capture = case((col(LedgerEntry.kind) == EntryKind.CAPTURE.value, 1), else_=0)
    entries = (
        sa_select(
            col(LedgerEntry.workspace_id),
            col(LedgerEntry.task_id),
            func.coalesce(func.sum(LedgerEntry.held_delta), 0),
            func.coalesce(func.sum(LedgerEntry.spent_delta), 0),
            func.coalesce(func.sum(is_capture), 0),
        )
        .where(col(LedgerEntry.task_id).is_not(None))
        .where(*([col(LedgerEntry.workspace_id) == workspace_id] if workspace_id else []))
        .group_by(col(LedgerEntry.workspace_id), col(LedgerEntry.task_id))
    )
    by_task = {
        (str(workspace), int(task_id)): (int(held), int(spent), int(captures))
        for workspace, task_id, held, spent, captures in session.execute(entries)
    }
    problems = []
    tasks = select(Task).where(*([col(Task.workspace_id) == workspace_id] if workspace_id else []))
    for task in session.exec(tasks).all():
        held, spent, captures = by_task.get((task.workspace_id, task.id or 0), (0, 0, 0))
        name = f"{task.workspace_id}/{task.team} task #{task.number}"
        if held != task.held:
            problems.append(f"{name} ({task.status}): holds {task.held} but its entries hold {held}")
        if task.status == "done" and (captures > 1 or spent != task.actual_cost):
            problems.append(f"{name}: cost {task.actual_cost} but {captures} capture(s) of {spent}")
        if task.status != "done" and captures:
            problems.append(f"{name} is {task.status} but has {captures} capture(s) of {spent}")
    return problems
