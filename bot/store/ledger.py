"""Ledger repository: append entries (idempotently) and move the running balance in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.domain.ledger import Balance, Delta, EntryKind
from bot.store.models import DailySpend, LedgerEntry, TeamBalance


def _insert_ignoring_conflict(session: Session, model: type[TeamBalance] | type[DailySpend]) -> object:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def as_balance(row: TeamBalance) -> Balance:
    """The domain view of a running balance row."""
    return Balance(plan=row.plan, extra=row.extra, held=row.held, spent=row.spent)


def team_balances(session: Session, *, workspace_id: str) -> dict[str, TeamBalance]:
    """Every team's running balance row in the workspace, by team."""
    statement = select(TeamBalance).where(TeamBalance.workspace_id == workspace_id)
    return {row.team: row for row in session.exec(statement)}


def get_balance_row(session: Session, *, workspace_id: str, team: str, lock: bool = False) -> TeamBalance | None:
    """A team's running balance; ``lock`` takes its row lock (PostgreSQL) for a read-then-write."""
    statement = select(TeamBalance).where(TeamBalance.workspace_id == workspace_id, TeamBalance.team == team)
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def create_balance_row(
    session: Session, *, workspace_id: str, team: str, cycle_start: date, now: datetime
) -> TeamBalance:
    """Create the team's balance row if no other process did first, then return it locked."""
    insert = _insert_ignoring_conflict(session, TeamBalance)
    statement = insert.values(  # type: ignore[attr-defined]
        workspace_id=workspace_id,
        team=team,
        cycle_start=cycle_start,
        plan=0,
        extra=0,
        held=0,
        spent=0,
        entry_count=0,
        updated_at=now,
    ).on_conflict_do_nothing()
    session.execute(statement)
    row = get_balance_row(session, workspace_id=workspace_id, team=team, lock=True)
    assert row is not None
    return row


def has_entry(session: Session, *, workspace_id: str, idempotency_key: str) -> bool:
    """Whether an entry with this idempotency key was already written."""
    statement = select(LedgerEntry.id).where(
        LedgerEntry.workspace_id == workspace_id, LedgerEntry.idempotency_key == idempotency_key
    )
    return session.exec(statement).first() is not None


def append_entry(
    session: Session,
    *,
    row: TeamBalance,
    kind: EntryKind,
    delta: Delta,
    idempotency_key: str,
    now: datetime,
    local_day: date,
    member: str | None = None,
    tool: str | None = None,
    task_id: int | None = None,
    note: str | None = None,
) -> bool:
    """Append one entry and move the running figure; False (and nothing written) if the key exists.

    The caller must hold the team's write lock (``Database.write()`` plus ``lock=True``), which is what
    makes the check-then-insert safe; the unique constraint backs it up.
    """
    if has_entry(session, workspace_id=row.workspace_id, idempotency_key=idempotency_key):
        return False
    session.add(
        LedgerEntry(
            workspace_id=row.workspace_id,
            team=row.team,
            kind=kind.value,
            plan_delta=delta.plan,
            extra_delta=delta.extra,
            held_delta=delta.held,
            spent_delta=delta.spent,
            member=member,
            tool=tool,
            task_id=task_id,
            idempotency_key=idempotency_key,
            note=note,
            created_at=now,
        )
    )
    row.plan += delta.plan
    row.extra += delta.extra
    row.held += delta.held
    row.spent += delta.spent
    row.entry_count += 1
    row.updated_at = now
    session.add(row)
    if delta.spent and kind is not EntryKind.LAPSE:
        _add_daily_spend(session, row=row, day=local_day, tool=tool or "other", amount=delta.spent)
    session.flush()
    return True


class DuplicateEntryError(RuntimeError):
    """An entry that must be new already exists: the task and the ledger would disagree."""


def append_new_entry(session: Session, **entry: Any) -> None:
    """``append_entry`` for entries that can only be written once by design (a task's own hold, capture…)."""
    if not append_entry(session, **entry):
        raise DuplicateEntryError(f"ledger entry {entry['idempotency_key']} already exists")


def _add_daily_spend(session: Session, *, row: TeamBalance, day: date, tool: str, amount: int) -> None:
    insert = _insert_ignoring_conflict(session, DailySpend)
    session.execute(
        insert.values(  # type: ignore[attr-defined]
            workspace_id=row.workspace_id, team=row.team, day=day, tool=tool, spent=0
        ).on_conflict_do_nothing()
    )
    spend = session.get(DailySpend, (row.workspace_id, row.team, day, tool))
    assert spend is not None
    spend.spent += amount
    session.add(spend)


def first_entry_at(session: Session, *, workspace_id: str, team: str) -> datetime | None:
    """When the team's first ledger entry was written (None: it has none), through the team/time index."""
    statement = select(func.min(LedgerEntry.created_at)).where(
        LedgerEntry.workspace_id == workspace_id, LedgerEntry.team == team
    )
    return session.exec(statement).one()


def ledger_sum(session: Session, *, workspace_id: str, team: str) -> Balance:
    """The truth: the sum of every entry of the team (a full scan, for checks and tests)."""
    statement = select(
        func.coalesce(func.sum(LedgerEntry.plan_delta), 0),
        func.coalesce(func.sum(LedgerEntry.extra_delta), 0),
        func.coalesce(func.sum(LedgerEntry.held_delta), 0),
        func.coalesce(func.sum(LedgerEntry.spent_delta), 0),
    ).where(LedgerEntry.workspace_id == workspace_id, LedgerEntry.team == team)
    plan, extra, held, spent = session.exec(statement).one()
    return Balance(int(plan), int(extra), int(held), int(spent))


def spent_between(session: Session, *, workspace_id: str, team: str, first_day: date, last_day: date) -> int:
    """Credits spent on the team's local days ``first_day`` to ``last_day`` inclusive (from the daily rollup)."""
    statement = select(func.coalesce(func.sum(DailySpend.spent), 0)).where(
        DailySpend.workspace_id == workspace_id,
        DailySpend.team == team,
        col(DailySpend.day) >= first_day,
        col(DailySpend.day) <= last_day,
    )
    return int(session.exec(statement).one())


def member_usage_since(session: Session, *, workspace_id: str, team: str, member: str, since: datetime) -> int:
    """What a member has reserved or spent since ``since``: open holds count until captured or released."""
    statement = select(func.coalesce(func.sum(LedgerEntry.held_delta + LedgerEntry.spent_delta), 0)).where(
        LedgerEntry.workspace_id == workspace_id,
        LedgerEntry.team == team,
        LedgerEntry.member == member,
        col(LedgerEntry.created_at) >= since,
        col(LedgerEntry.kind).in_([EntryKind.HOLD.value, EntryKind.CAPTURE.value, EntryKind.RELEASE.value]),
    )
    return max(0, int(session.exec(statement).one()))


def check_running_balances(session: Session) -> list[str]:
    """Every team whose running balance differs from the sum of its ledger entries (should be none)."""
    problems = []
    for row in session.exec(select(TeamBalance)).all():
        truth = ledger_sum(session, workspace_id=row.workspace_id, team=row.team)
        if truth != as_balance(row):
            problems.append(f"{row.workspace_id}/{row.team}: running {as_balance(row)} but ledger {truth}")
    return problems
