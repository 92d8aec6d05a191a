"""Reserving and giving back credits: the writes that check a balance first.

Each runs in ``Database.write()`` with the team's balance row locked (``BEGIN IMMEDIATE`` on SQLite,
``SELECT ... FOR UPDATE`` on PostgreSQL), so two holds placed at the same moment can never together
reserve more than the team has, and an idempotency key makes a retried call a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.ledger import Balance, EntryKind
from bot.services.balances import open_team_cycle
from bot.store import ledger as store
from bot.store.db import Database


@dataclass(frozen=True)
class HoldResult:
    """The balance after the call, and whether this call wrote the entry (False: a replay)."""

    written: bool
    balance: Balance


@dataclass(frozen=True)
class EntryContext:
    """Who and what an entry is about, and its idempotency key."""

    workspace_id: str
    team: str
    idempotency_key: str
    member: str
    tool: str | None = None
    task_id: int | None = None


def _apply(
    db: Database,
    config: CreditsConfig,
    entry: EntryContext,
    kind: EntryKind,
    make_delta: Callable[[Balance], rules.Delta],
    now: datetime,
) -> HoldResult:
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=entry.workspace_id, team=entry.team, now=now)
        if store.has_entry(session, workspace_id=entry.workspace_id, idempotency_key=entry.idempotency_key):
            return HoldResult(False, store.as_balance(row))
        delta = make_delta(store.as_balance(row))
        store.append_entry(
            session,
            row=row,
            kind=kind,
            delta=delta,
            idempotency_key=entry.idempotency_key,
            now=now,
            local_day=local_date(now, config.teams[entry.team].zone),
            member=entry.member,
            tool=entry.tool,
            task_id=entry.task_id,
        )
        return HoldResult(True, store.as_balance(row))


def place_hold(db: Database, config: CreditsConfig, entry: EntryContext, *, amount: int, now: datetime) -> HoldResult:
    """Reserve ``amount`` for a task; InsufficientCreditsError (nothing written) when it cannot be afforded."""
    return _apply(db, config, entry, EntryKind.HOLD, lambda balance: rules.place_hold(balance, amount), now)


def capture_hold(
    db: Database, config: CreditsConfig, entry: EntryContext, *, hold_amount: int, cost: int, now: datetime
) -> HoldResult:
    """Spend a task's real cost against its hold (plan credits first) and close the hold."""
    return _apply(db, config, entry, EntryKind.CAPTURE, lambda balance: rules.capture(balance, hold_amount, cost), now)


def release_hold(
    db: Database, config: CreditsConfig, entry: EntryContext, *, hold_amount: int, now: datetime
) -> HoldResult:
    """Give a hold back in full."""
    return _apply(db, config, entry, EntryKind.RELEASE, lambda balance: rules.release_hold(balance, hold_amount), now)
