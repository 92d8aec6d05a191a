"""Ledger repository: append entries (idempotently) and move the running balance in the same transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.domain.ledger import Balance, Delta, EntryKind
from bot.store import rollups
from bot.store.models import DailySpend, HistoryRollup, LedgerEntry, Task, TeamBalance

logger = logging.getLogger(__name__)


HISTORY_KINDS = (
    EntryKind.GRANT,
    EntryKind.EXTRA,
    EntryKind.CAPTURE,
    EntryKind.CHARGE,
    EntryKind.REFUND,
    EntryKind.ADJUSTMENT,
)
"""Entries the charge history shows (when they move credits); holds and releases are intentions."""

RollupKey = tuple[date, str, str, str]  # UTC day, member, tool, project ("" for none)


def shown_in_history(kind: EntryKind, delta: Delta) -> bool:
    """Whether ``/credits history`` lists an entry of this kind and delta."""
    return kind in HISTORY_KINDS and (delta.spent != 0 or delta.plan + delta.extra != 0)


def _rollup_key(at: datetime, member: str | None, tool: str | None, project: str | None) -> RollupKey:
    return (at.astimezone(UTC).date(), member or "", tool or "", project or "")


def _add_history_rollup(session: Session, row: TeamBalance, totals: dict[RollupKey, tuple[int, int, int]]) -> None:
    """Move the history's per-day totals (spent, retries, entries) in the caller's transaction: one upsert."""
    if not totals:
        return
    insert_ = _insert_ignoring_conflict(session, HistoryRollup)
    excluded = insert_.excluded  # type: ignore[attr-defined]
    table = HistoryRollup.__table__.c  # type: ignore[attr-defined]
    statement = insert_.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["workspace_id", "team", "day", "member", "tool", "project"],
        set_={
            "spent": table.spent + excluded.spent,
            "retries": table.retries + excluded.retries,
            "entries": table.entries + excluded.entries,
        },
    )
    rows = [
        {
            "workspace_id": row.workspace_id,
            "team": row.team,
            "day": day,
            "member": member,
            "tool": tool,
            "project": project,
            "spent": spent,
            "retries": retries,
            "entries": entries,
        }
        for (day, member, tool, project), (spent, retries, entries) in totals.items()
    ]
    session.execute(statement, rows)


def _insert_ignoring_conflict(
    session: Session, model: type[TeamBalance] | type[DailySpend] | type[HistoryRollup]
) -> object:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


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
    return entry_by_key(session, workspace_id=workspace_id, idempotency_key=idempotency_key) is not None


def entry_by_key(session: Session, *, workspace_id: str, idempotency_key: str) -> LedgerEntry | None:
    """The entry written with this idempotency key, if any."""
    statement = select(LedgerEntry).where(
        LedgerEntry.workspace_id == workspace_id, LedgerEntry.idempotency_key == idempotency_key
    )
    return session.exec(statement).first()


class IdempotencyConflictError(RuntimeError):
    """An idempotency key reused for a different entry: a bug or a forged retry, never a silent no-op."""

    def __init__(self, key: str, existing: str, attempted: str) -> None:
        super().__init__(f"ledger key {key} already names {existing}; refused {attempted}")
        self.key = key


def _content(kind: str, delta: Delta, team: str, member: str | None, task_id: int | None) -> str:
    return (
        f"{kind} team={team} member={member} task={task_id} "
        f"plan={delta.plan} extra={delta.extra} held={delta.held} spent={delta.spent}"
    )


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
    project: str | None = None,
    charge_kind: str | None = None,
    retry_credits: int | None = None,
    week_usage: int | None = None,
) -> bool:
    """Append one entry and move the running figure; False (and nothing written) if the key exists.

    The same key with the same content (kind, amounts, team, member, task) is a retry and returns the
    original outcome; the same key with other content raises IdempotencyConflictError. The caller must
    hold the team's write lock (``Database.write()`` plus ``lock=True``), which is what makes the
    check-then-insert safe; the unique constraint backs it up.
    """
    existing = entry_by_key(session, workspace_id=row.workspace_id, idempotency_key=idempotency_key)
    if existing is not None:
        before = Delta(existing.plan_delta, existing.extra_delta, existing.held_delta, existing.spent_delta)
        was = _content(existing.kind, before, existing.team, existing.member, existing.task_id)
        now_asked = _content(kind.value, delta, row.team, member, task_id)
        if was != now_asked:
            logger.error("idempotency conflict on %s: stored %s, asked %s", idempotency_key, was, now_asked)
            raise IdempotencyConflictError(idempotency_key, was, now_asked)
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
            project=project,
            charge_kind=charge_kind,
            retry_credits=retry_credits,
            week_usage=week_usage,
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
    if shown_in_history(kind, delta):
        retries = retry_part(delta.spent, charge_kind, retry_credits)
        _add_history_rollup(session, row, {_rollup_key(now, member, tool, project): (delta.spent, retries, 1)})
    usage = rollups.usage_key(row.workspace_id, row.team, kind.value, member, now)
    if usage is not None:
        rollups.add_member_usage(session, {usage: delta.held + delta.spent if week_usage is None else week_usage})
    session.flush()
    return True


def retry_part(spent: int, charge_kind: str | None, retry_credits: int | None) -> int:
    """What of an entry's spend went on retries: a Keter ``retry`` charge is all retry; a capture says how much."""
    return spent if charge_kind == "retry" else retry_credits or 0


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


@dataclass(frozen=True)
class NewEntry:
    """One entry for ``append_entries``: what ``append_entry`` takes, minus the balance row."""

    kind: EntryKind
    delta: Delta
    idempotency_key: str
    at: datetime
    local_day: date
    member: str | None = None
    tool: str | None = None
    task_id: int | None = None
    note: str | None = None
    project: str | None = None
    charge_kind: str | None = None


def append_entries(session: Session, *, row: TeamBalance, entries: list[NewEntry], now: datetime) -> None:
    """Append many new entries at once (a batch of charges): one INSERT, one move of the running figure.

    The same guarantees as ``append_new_entry`` for each: every key must be new (DuplicateEntryError,
    nothing written, if one exists), and the running figure and the daily rollup move in the caller's
    transaction, under the team's lock. The deltas must already follow each other (each computed on
    the balance the previous ones left), as the caller's loop over the domain rules makes them.
    """
    if not entries:
        return
    keys = [e.idempotency_key for e in entries]
    if len(set(keys)) != len(keys):
        raise DuplicateEntryError("a batch names the same ledger key twice")
    for n in range(0, len(keys), 500):  # within every database's limit on bound parameters
        taken = session.execute(
            sa_select(col(LedgerEntry.idempotency_key)).where(
                col(LedgerEntry.workspace_id) == row.workspace_id,
                col(LedgerEntry.idempotency_key).in_(keys[n : n + 500]),
            )
        ).first()
        if taken is not None:
            raise DuplicateEntryError(f"ledger entry {taken[0]} already exists")
    session.execute(
        insert(LedgerEntry),
        [
            {
                "workspace_id": row.workspace_id,
                "team": row.team,
                "kind": e.kind.value,
                "plan_delta": e.delta.plan,
                "extra_delta": e.delta.extra,
                "held_delta": e.delta.held,
                "spent_delta": e.delta.spent,
                "member": e.member,
                "tool": e.tool,
                "task_id": e.task_id,
                "idempotency_key": e.idempotency_key,
                "note": e.note,
                "created_at": e.at,
                "project": e.project,
                "charge_kind": e.charge_kind,
            }
            for e in entries
        ],
    )
    spend: dict[tuple[date, str], int] = {}
    for e in entries:
        row.plan += e.delta.plan
        row.extra += e.delta.extra
        row.held += e.delta.held
        row.spent += e.delta.spent
        if e.delta.spent and e.kind is not EntryKind.LAPSE:
            key = (e.local_day, e.tool or "other")
            spend[key] = spend.get(key, 0) + e.delta.spent
    row.entry_count += len(entries)
    row.updated_at = max(row.updated_at, now)
    session.add(row)
    for (day, tool), amount in spend.items():
        _add_daily_spend(session, row=row, day=day, tool=tool, amount=amount)
    totals: dict[RollupKey, tuple[int, int, int]] = {}
    for e in entries:
        if shown_in_history(e.kind, e.delta):
            rollup = _rollup_key(e.at, e.member, e.tool, e.project)
            spent, retries, count = totals.get(rollup, (0, 0, 0))
            retry = retry_part(e.delta.spent, e.charge_kind, None)
            totals[rollup] = (spent + e.delta.spent, retries + retry, count + 1)
    _add_history_rollup(session, row, totals)
    usage: dict[rollups.UsageKey, int] = {}
    for e in entries:
        hour = rollups.usage_key(row.workspace_id, row.team, e.kind.value, e.member, e.at)
        if hour is not None:
            usage[hour] = usage.get(hour, 0) + e.delta.held + e.delta.spent
    rollups.add_member_usage(session, usage)
    session.flush()
