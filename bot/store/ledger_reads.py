"""Ledger reads: entries by key, the running balance row, sums over windows, and which entries the history shows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from bot.domain.keter_charges import ChargeKind
from bot.domain.ledger import Balance, Delta, EntryKind
from bot.store import rollups
from bot.store.tables.ledger import DailySpend, LedgerEntry, TeamBalance
from bot.store.tables.tasks import Task

HISTORY_KINDS = (
    EntryKind.GRANT,
    EntryKind.EXTRA,
    EntryKind.CAPTURE,
    EntryKind.CHARGE,
    EntryKind.REFUND,
    EntryKind.ADJUSTMENT,
)
"""Entries the charge history shows (when they move credits); holds and releases are intentions."""


def shown_in_history(kind: EntryKind, delta: Delta) -> bool:
    """Whether ``/credits history`` lists an entry of this kind and delta."""
    return kind in HISTORY_KINDS and (delta.spent != 0 or delta.plan + delta.extra != 0)


def as_balance(row: TeamBalance) -> Balance:
    """The domain view of a running balance row."""
    return Balance(plan=row.plan, extra=row.extra, held=row.held, spent=row.spent)


def team_balances(session: Session, *, workspace_id: str) -> dict[str, TeamBalance]:
    """Every team's running balance row in the workspace, by team."""
    statement = select(TeamBalance).where(TeamBalance.workspace_id == workspace_id)
    return {row.team: row for row in session.exec(statement)}


# Built once (``bindparam``) and run on the Core connection (no ORM step): the statements every quote
# and balance runs, read as plain tuples.
_BALANCE_FIGURES = sa_select(
    col(TeamBalance.plan),
    col(TeamBalance.extra),
    col(TeamBalance.held),
    col(TeamBalance.spent),
    col(TeamBalance.entry_count),
    col(TeamBalance.cycle_start),
).where(col(TeamBalance.workspace_id) == bindparam("workspace_id"), col(TeamBalance.team) == bindparam("team"))


def balance_figures(session: Session, *, workspace_id: str, team: str) -> tuple[Balance, int, date] | None:
    """A team's running balance, entry count and cycle start, without loading the row as an object."""
    row = session.connection().execute(_BALANCE_FIGURES, {"workspace_id": workspace_id, "team": team}).first()
    if row is None:
        return None
    plan, extra, held, spent, entry_count, started = row
    return Balance(plan=plan, extra=extra, held=held, spent=spent), int(entry_count), started


def get_balance_row(session: Session, *, workspace_id: str, team: str, lock: bool = False) -> TeamBalance | None:
    """A team's running balance; ``lock`` takes its row lock (PostgreSQL) for a read-then-write."""
    statement = select(TeamBalance).where(TeamBalance.workspace_id == workspace_id, TeamBalance.team == team)
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def has_entry(session: Session, *, workspace_id: str, idempotency_key: str) -> bool:
    """Whether an entry with this idempotency key was already written."""
    return entry_by_key(session, workspace_id=workspace_id, idempotency_key=idempotency_key) is not None


def entry_by_key(session: Session, *, workspace_id: str, idempotency_key: str) -> LedgerEntry | None:
    """The entry written with this idempotency key, if any."""
    statement = select(LedgerEntry).where(
        LedgerEntry.workspace_id == workspace_id, LedgerEntry.idempotency_key == idempotency_key
    )
    return session.exec(statement).first()


def retry_part(spent: int, charge_kind: str | None, retry_credits: int | None) -> int:
    """What of an entry's spend went on retries: a Keter ``retry`` charge is all retry; a capture says how much."""
    return spent if charge_kind == ChargeKind.RETRY else retry_credits or 0


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


_SPENT_BETWEEN = sa_select(func.coalesce(func.sum(DailySpend.spent), 0)).where(
    col(DailySpend.workspace_id) == bindparam("workspace_id"),
    col(DailySpend.team) == bindparam("team"),
    col(DailySpend.day) >= bindparam("first_day"),
    col(DailySpend.day) <= bindparam("last_day"),
)


def spent_between(session: Session, *, workspace_id: str, team: str, first_day: date, last_day: date) -> int:
    """Credits spent on the team's local days ``first_day`` to ``last_day`` inclusive (from the daily rollup)."""
    parameters = {"workspace_id": workspace_id, "team": team, "first_day": first_day, "last_day": last_day}
    return int(session.connection().execute(_SPENT_BETWEEN, parameters).scalar() or 0)


def member_usage_since(session: Session, *, workspace_id: str, team: str, member: str, since: datetime) -> int:
    """What a member has reserved or spent since ``since``: open holds count until captured or released.

    Read from the hourly ``member_usage`` rollup (plus the entries before the first whole hour).
    """
    return max(0, rollups.usage_since(session, workspace_id=workspace_id, team=team, member=member, since=since))


def largest_spend_since(
    session: Session, *, workspace_id: str, team: str, since: datetime
) -> tuple[int, datetime, int | None] | None:
    """The team's largest single spend entry since ``since``: credits, when, and its task's number if any."""
    statement = (
        sa_select(col(LedgerEntry.spent_delta), col(LedgerEntry.created_at), col(Task.number))
        .outerjoin(Task, col(Task.id) == col(LedgerEntry.task_id))
        .where(
            col(LedgerEntry.workspace_id) == workspace_id,
            col(LedgerEntry.team) == team,
            col(LedgerEntry.created_at) >= since,
            col(LedgerEntry.spent_delta) > 0,
            col(LedgerEntry.kind) != EntryKind.LAPSE.value,
        )
        .order_by(col(LedgerEntry.spent_delta).desc(), col(LedgerEntry.id))
        .limit(1)
    )
    row = session.connection().execute(statement).first()
    if row is None:
        return None
    amount, at, number = row
    return int(amount), at, None if number is None else int(number)
