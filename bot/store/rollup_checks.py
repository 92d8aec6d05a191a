"""``db check`` for the rollups: each recomputed from its source rows and compared; ``rebuild_rollups`` to repair."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.domain.lifecycle import TaskStatus
from bot.store.rollups import (
    _TRACKED,
    USAGE_KINDS,
    WEEK_PART,
    ShapeKey,
    UsageKey,
    _by_week,
    _Moves,
    _write_task_rollups,
    add_member_usage,
    hour_of,
    usage_key,
)
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.rollups import MemberUsage, TaskRollup, TaskRollupWeek
from bot.store.tables.tasks import Task


def _recomputed_usage(session: Session) -> dict[UsageKey, int]:
    statement = sa_select(
        col(LedgerEntry.workspace_id),
        col(LedgerEntry.team),
        col(LedgerEntry.kind),
        col(LedgerEntry.member),
        col(LedgerEntry.created_at),
        WEEK_PART,
    ).where(col(LedgerEntry.member).is_not(None), col(LedgerEntry.kind).in_(USAGE_KINDS))
    totals: Counter[UsageKey] = Counter()
    for workspace, team, kind, member, at, amount in session.connection().execute(statement):
        key = usage_key(workspace, team, kind, member, at)
        if key is not None:
            totals[key] += int(amount)
    return {key: amount for key, amount in totals.items() if amount}


def _recomputed_tasks(session: Session) -> dict[ShapeKey, tuple[int, int, int]]:
    names = sorted(_TRACKED)
    statement = sa_select(*(col(getattr(Task, name)) for name in names)).where(
        col(Task.status) == TaskStatus.DONE, col(Task.finished_at).is_not(None)
    )
    moves = _Moves()
    for row in session.connection().execute(statement):
        moves.add(dict(zip(names, row, strict=True)), +1)
    return {key: (n, k, v) for key, (n, k, v) in moves.by_key.items() if (n, k, v) != (0, 0, 0)}


def _stored_usage(session: Session) -> dict[UsageKey, int]:
    rows = session.connection().execute(sa_select(MemberUsage))
    return {(r.workspace_id, r.team, r.member, hour_of(r.hour)): int(r.amount) for r in rows if r.amount}


def _stored_tasks(session: Session) -> dict[ShapeKey, tuple[int, int, int]]:
    stored: dict[ShapeKey, tuple[int, int, int]] = {}
    for r in session.connection().execute(sa_select(TaskRollup)):
        figures = (int(r.tasks), int(r.kept_tasks), int(r.kept))
        if figures != (0, 0, 0):
            key = (r.workspace_id, r.team, r.tool, r.day, r.quality, r.variants)
            stored[(*key, r.duration_seconds, r.retries_used, r.actual_cost)] = figures
    return stored


def _stored_weeks(session: Session) -> dict[ShapeKey, tuple[int, int, int]]:
    stored: dict[ShapeKey, tuple[int, int, int]] = {}
    for r in session.connection().execute(sa_select(TaskRollupWeek)):
        figures = (int(r.tasks), int(r.kept_tasks), int(r.kept))
        if figures != (0, 0, 0):
            key = (r.workspace_id, r.team, r.tool, r.week, r.quality, r.variants)
            stored[(*key, r.duration_seconds, r.retries_used, r.actual_cost)] = figures
    return stored


def check_rollups(session: Session) -> list[str]:
    """Every rollup row that differs from a recomputation from the ledger and the tasks (should be none)."""
    tasks = _recomputed_tasks(session)
    return (
        _differences("member_usage", _stored_usage(session), _recomputed_usage(session))
        + _differences("task_rollup", _stored_tasks(session), tasks)
        + _differences("task_rollup_week", _stored_weeks(session), _by_week(tasks))
    )


def _differences(name: str, stored: dict[Any, Any], truth: dict[Any, Any]) -> list[str]:
    problems = []
    for key in sorted(set(stored) | set(truth), key=str):
        if stored.get(key) != truth.get(key):
            where = "/".join(str(part) for part in key)
            problems.append(f"{name} {where}: kept {stored.get(key)} but the source rows give {truth.get(key)}")
    return problems


def rebuild_rollups(session: Session) -> None:
    """Recompute the rollups from their source rows (after a bulk load that bypassed the store)."""
    connection = session.connection()
    connection.execute(delete(MemberUsage))
    connection.execute(delete(TaskRollup))
    connection.execute(delete(TaskRollupWeek))
    add_member_usage(session, _recomputed_usage(session))
    _write_task_rollups(session, _recomputed_tasks(session))
