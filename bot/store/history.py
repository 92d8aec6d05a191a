"""The charge history's queries: a keyset page over the ledger, newest first, and the slice's totals.

Pages are read by keyset on ``(created_at, id)`` through the ``(workspace, team, created_at)`` and
``(workspace, team, member, created_at)`` indexes, never by OFFSET, so the hundredth page of a team
with a million entries costs what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.domain.keter_charges import ChargeKind
from bot.store.ledger_reads import HISTORY_KINDS
from bot.store.tables.ledger import HistoryRollup, LedgerEntry
from bot.store.tables.tasks import Task

SHOWN_KINDS = tuple(kind.value for kind in HISTORY_KINDS)


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
    task_duration_seconds: int | None
    task_retries: int | None  # the retries reported with ``done`` (None: not reported, or no task)


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
        # The plain range first, so the (…, created_at) index bounds the scan; the OR only breaks ties.
        clauses.append(col(LedgerEntry.created_at) <= at)
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
            col(Task.duration_seconds),
            col(Task.retries_used),
        )
        .select_from(LedgerEntry)
        .outerjoin(Task, col(Task.id) == col(LedgerEntry.task_id))
        .where(*clauses)
        .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
        .limit(limit)
    )
    return [HistoryRow(*row) for row in session.execute(statement).all()]


def history_totals(session: Session, f: HistoryFilter) -> tuple[int, int, int]:
    """The slice's spend, its cost of retries (retry charges; ``done``'s cost over a first attempt), its entries.

    Read from the per-day rollup (``history_rollup``), so it costs a few dozen rows whatever the
    ledger's size; ``since`` must be a UTC midnight, as ``bot.services.charges.history`` makes it.
    """
    clauses: list[Any] = [
        col(HistoryRollup.workspace_id) == f.workspace_id,
        col(HistoryRollup.team) == f.team,
        col(HistoryRollup.day) >= f.since.astimezone(UTC).date(),
    ]
    if f.member is not None:
        clauses.append(col(HistoryRollup.member) == f.member)
    if f.tool is not None:
        clauses.append(col(HistoryRollup.tool) == f.tool)
    if f.project is not None:
        clauses.append(func.lower(col(HistoryRollup.project)) == f.project.lower())
    statement = sa_select(
        func.coalesce(func.sum(col(HistoryRollup.spent)), 0),
        func.coalesce(func.sum(col(HistoryRollup.retries)), 0),
        func.coalesce(func.sum(col(HistoryRollup.entries)), 0),
    ).where(*clauses)
    spent, retries, count = session.execute(statement).one()
    return int(spent), int(retries), int(count)


def rebuild_history_rollup(session: Session, *, workspace_id: str, team: str) -> None:
    """Recompute a team's per-day history totals from its ledger (after a bulk load that bypassed the store)."""
    day = "date(created_at)" if session.get_bind().dialect.name == "sqlite" else "(created_at AT TIME ZONE 'UTC')::date"
    kinds = ", ".join(f"'{kind}'" for kind in SHOWN_KINDS)
    session.execute(
        text("DELETE FROM history_rollup WHERE workspace_id = :w AND team = :t"), {"w": workspace_id, "t": team}
    )
    # Only the constants above are joined in (the day expression, the kinds), never input.
    group = f"{day}, coalesce(member, ''), coalesce(tool, ''), coalesce(project, '')"
    sql = " ".join(
        [
            "INSERT INTO history_rollup (workspace_id, team, day, member, tool, project, spent, retries, entries)",
            "SELECT workspace_id, team,",
            group,
            ", sum(spent_delta),",
            f"sum(CASE WHEN charge_kind = '{ChargeKind.RETRY.value}' THEN spent_delta",
            "ELSE coalesce(retry_credits, 0) END), count(*)",
            "FROM ledger_entry WHERE workspace_id = :w AND team = :t AND kind IN (",
            kinds,
            ") AND (spent_delta <> 0 OR plan_delta + extra_delta <> 0) GROUP BY workspace_id, team,",
            group,
        ]
    )
    session.execute(
        text(sql),
        {"w": workspace_id, "t": team},
    )
