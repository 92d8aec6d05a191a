"""The charge history's queries: a keyset page over the ledger, newest first, and the slice's totals.

Pages are read by keyset on ``(created_at, id)`` through the ``(workspace, team, created_at)`` and
``(workspace, team, member, created_at)`` indexes, never by OFFSET, so the hundredth page of a team
with a million entries costs what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.domain.ledger import EntryKind
from bot.store.models import LedgerEntry, Task

SHOWN_KINDS = (
    EntryKind.GRANT.value,
    EntryKind.EXTRA.value,
    EntryKind.CAPTURE.value,
    EntryKind.CHARGE.value,
    EntryKind.REFUND.value,
    EntryKind.ADJUSTMENT.value,
)


@dataclass(frozen=True)
class HistoryFilter:
    """One slice of a team's history: the last days, optionally one member, tool, project."""

    workspace_id: str
    team: str
    since: datetime
    member: str | None = None
    tool: str | None = None
    project: str | None = None


@dataclass(frozen=True)
class HistoryRow:
    """One entry of the history with its task's number (if it belongs to a task)."""

    id: int
    at: datetime
    kind: str
    member: str | None
    tool: str | None
    project: str | None
    charge_kind: str | None
    note: str | None
    spent: int
    credits_moved: int  # plan + extra change
    task_number: int | None
    task_quality: str | None
    task_variants: int | None


def _where(f: HistoryFilter) -> list[Any]:
    clauses: list[Any] = [
        col(LedgerEntry.workspace_id) == f.workspace_id,
        col(LedgerEntry.team) == f.team,
        col(LedgerEntry.created_at) >= f.since,
        col(LedgerEntry.kind).in_(SHOWN_KINDS),
        or_(col(LedgerEntry.spent_delta) != 0, col(LedgerEntry.plan_delta) + col(LedgerEntry.extra_delta) != 0),
    ]
    if f.member is not None:
        clauses.append(col(LedgerEntry.member) == f.member)
    if f.tool is not None:
        clauses.append(col(LedgerEntry.tool) == f.tool)
    if f.project is not None:
        clauses.append(func.lower(col(LedgerEntry.project)) == f.project.lower())
    return clauses


def history_page(
    session: Session, f: HistoryFilter, *, before: tuple[datetime, int] | None, limit: int
) -> list[HistoryRow]:
    """Up to ``limit`` entries of the slice older than ``before`` (newest first)."""
    clauses = _where(f)
    if before is not None:
        at, entry_id = before
        clauses.append(
            or_(
                col(LedgerEntry.created_at) < at,
                and_(col(LedgerEntry.created_at) == at, col(LedgerEntry.id) < entry_id),
            )
        )
    statement = (
        sa_select(
            col(LedgerEntry.id),
            col(LedgerEntry.created_at),
            col(LedgerEntry.kind),
            col(LedgerEntry.member),
            col(LedgerEntry.tool),
            col(LedgerEntry.project),
            col(LedgerEntry.charge_kind),
            col(LedgerEntry.note),
            col(LedgerEntry.spent_delta),
            col(LedgerEntry.plan_delta) + col(LedgerEntry.extra_delta),
            col(Task.number),
            col(Task.quality),
            col(Task.variants),
        )
        .select_from(LedgerEntry)
        .outerjoin(Task, col(Task.id) == col(LedgerEntry.task_id))
        .where(*clauses)
        .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
        .limit(limit)
    )
    return [HistoryRow(*row) for row in session.execute(statement).all()]


def history_totals(session: Session, f: HistoryFilter) -> tuple[int, int, int]:
    """The slice's spend, what its retries cost (Keter Labs' retry charges), and its number of entries."""
    retry = case((col(LedgerEntry.charge_kind) == "retry", col(LedgerEntry.spent_delta)), else_=0)
    statement = sa_select(
        func.coalesce(func.sum(col(LedgerEntry.spent_delta)), 0),
        func.coalesce(func.sum(retry), 0),
        func.count(),
    ).where(*_where(f))
    spent, retries, count = session.execute(statement).one()
    return int(spent), int(retries), int(count)
