"""Ledger writes: the one way an entry is appended, with its running balance and rollups in the same transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.domain.ledger import Delta, EntryKind
from bot.store import rollups
from bot.store.ledger_reads import entry_by_key, get_balance_row, retry_part, shown_in_history
from bot.store.tables.ledger import DailySpend, HistoryRollup, LedgerEntry, TeamBalance

logger = logging.getLogger(__name__)


RollupKey = tuple[date, str, str, str]  # UTC day, member, tool, project ("" for none)


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
