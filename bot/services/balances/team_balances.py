"""A team's balance: renewal catch-up, the running figure, burn rate and run-out forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.budgets import ProjectUse
from bot.domain.calendar import cycle_start, local_date, next_renewal
from bot.domain.forecast import (
    BURN_WINDOW_DAYS,
    CycleOutlook,
    PaceOutlier,
    RunOutForecast,
    burn_rate,
    cycle_outlook,
    forecast_run_out,
    pace_outlier,
)
from bot.domain.keter_charges import Reconciliation
from bot.domain.ledger import Balance, EntryKind
from bot.store import budgets as budget_store
from bot.store import keter_charges as charge_store
from bot.store import ledger_reads, ledger_writes
from bot.store.db import Database
from bot.store.tables.ledger import TeamBalance


@dataclass(frozen=True)
class BalanceReport:
    """Everything ``/credits balance`` shows."""

    team: str
    plan_name: str
    monthly_credits: int
    balance: Balance
    cycle_start: date
    renews_on: date
    spent_last_window: int
    forecast: RunOutForecast
    outlook: CycleOutlook  # the forecast within the cycle: what ``/credits balance`` says
    today: date  # in the team's timezone, so dates can say their year when it is not this one
    projects: tuple[ProjectUse, ...] = ()  # client projects with a budget this cycle
    reconciliation: Reconciliation | None = None  # Keter Labs' own figure (``balance.updated``), if any
    outlier: PaceOutlier | None = None  # one spend that is most of the burn window's: said beside the pace


def due_entries(
    config: CreditsConfig, *, team: str, entry_count: int, cycle_started: date | None, balance: Balance, current: date
) -> list[tuple[EntryKind, rules.Delta, str, str]]:
    """The entries the calendar says are due (opening grant, lapse and grant), each with its key and note.

    One rule for both ways in: ``open_team_cycle`` writes them; ``peek_balance`` applies them in memory.
    """
    team_cfg = config.teams[team]
    monthly = config.plans[team_cfg.plan].monthly_credits
    due: list[tuple[EntryKind, rules.Delta, str, str]] = []
    if entry_count == 0:
        if monthly:
            due.append((EntryKind.GRANT, rules.grant_plan(monthly), f"grant:{team}:{current}", f"{team_cfg.plan} plan"))
        if team_cfg.extra_credits:
            extra = rules.add_extra(team_cfg.extra_credits)
            due.append((EntryKind.EXTRA, extra, f"opening-extra:{team}", "opening extra credits"))
    elif cycle_started is not None and cycle_started < current:
        lapse = rules.renew_cycle(balance)
        due.append((EntryKind.LAPSE, lapse, f"lapse:{team}:{current}", f"cycle of {cycle_started} ends"))
        if monthly:  # the grant repays a deficit first (out of the balance the lapse leaves)
            grant = rules.grant_plan(monthly, balance.apply(lapse))
            due.append((EntryKind.GRANT, grant, f"grant:{team}:{current}", f"{team_cfg.plan} plan"))
    return due


def open_team_cycle(
    session: Session, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime
) -> TeamBalance:
    """Lock the team's balance row, first creating it or starting a new cycle as the calendar says.

    Idempotency keys name the cycle, so two processes renewing at once write each entry once, and a
    bot that was down across a renewal catches up on its next request.
    """
    team_cfg = config.teams[team]
    today = local_date(now, team_cfg.zone)
    current = cycle_start(today, team_cfg.renews_on_day)
    row = ledger_reads.get_balance_row(session, workspace_id=workspace_id, team=team, lock=True)
    if row is None:
        row = ledger_writes.create_balance_row(
            session, workspace_id=workspace_id, team=team, cycle_start=current, now=now
        )
    due = due_entries(
        config,
        team=team,
        entry_count=row.entry_count,
        cycle_started=row.cycle_start,
        balance=ledger_reads.as_balance(row),
        current=current,
    )
    for kind, delta, key, note in due:
        before = ledger_reads.as_balance(row)
        written = ledger_writes.append_entry(
            session, row=row, kind=kind, delta=delta, idempotency_key=key, now=now, local_day=today, note=note
        )
        if written and kind == EntryKind.LAPSE:  # the renewal: what it kept only to back older holds
            row.carried, row.renewed_at = rules.carried_at_renewal(before), now
    row.cycle_start = max(row.cycle_start, current)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class CycleBalance:
    """A team's running balance and the cycle it belongs to, detached from any session."""

    balance: Balance
    cycle_start: date


def current_balance(
    db: Database, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime
) -> CycleBalance:
    """The team's running balance, renewing it first (in a write transaction) only when needed."""
    team_cfg = config.teams[team]
    current = cycle_start(local_date(now, team_cfg.zone), team_cfg.renews_on_day)
    with db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=workspace_id, team=team)
        if row is not None and row.entry_count > 0 and row.cycle_start >= current:
            return CycleBalance(ledger_reads.as_balance(row), row.cycle_start)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
        return CycleBalance(ledger_reads.as_balance(row), row.cycle_start)


def peek_balance(
    session: Session, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime
) -> CycleBalance:
    """The team's balance as ``current_balance`` would leave it, read only: a due renewal is applied
    in memory (the next write records it), so a read never waits for SQLite's write lock."""
    team_cfg = config.teams[team]
    current = cycle_start(local_date(now, team_cfg.zone), team_cfg.renews_on_day)
    figures = ledger_reads.balance_figures(session, workspace_id=workspace_id, team=team)
    balance, entry_count, started = figures if figures is not None else (Balance(), 0, None)
    due = due_entries(
        config, team=team, entry_count=entry_count, cycle_started=started, balance=balance, current=current
    )
    for _kind, delta, _key, _note in due:
        balance = balance.apply(delta)
    return CycleBalance(balance, max(started, current) if started is not None else current)


def balance_report(
    db: Database, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime
) -> BalanceReport:
    """Plan and extra credits, holds, this cycle's spend, the burn rate, the run-out forecast and Keter
    Labs' own figure, all from one read transaction."""
    team_cfg = config.teams[team]
    today = local_date(now, team_cfg.zone)
    with db.read() as session:  # one read transaction; nothing written
        current = peek_balance(session, config, workspace_id=workspace_id, team=team, now=now)
        spent_recently = ledger_reads.spent_between(
            session,
            workspace_id=workspace_id,
            team=team,
            first_day=today - timedelta(days=BURN_WINDOW_DAYS - 1),
            last_day=today,
        )
        projects = budgeted_projects(session, config, workspace_id=workspace_id, team=team, cycle=current.cycle_start)
        seen = charge_store.reconciliation(session, workspace_id=workspace_id, team=team)
        window_start = datetime.combine(today - timedelta(days=BURN_WINDOW_DAYS - 1), time(), tzinfo=team_cfg.zone)
        largest = ledger_reads.largest_spend_since(
            session, workspace_id=workspace_id, team=team, since=window_start.astimezone(UTC)
        )
    renews_on = next_renewal(today, team_cfg.renews_on_day)
    outlier = None
    if largest is not None:
        amount, at, number = largest
        next_days = (next_renewal(renews_on, team_cfg.renews_on_day) - renews_on).days
        outlier = pace_outlier(spent_recently, amount, local_date(at, team_cfg.zone), number, next_days)
    balance = current.balance
    forecast = forecast_run_out(balance.available, burn_rate(spent_recently), today, renews_on)
    outlook = team_outlook(balance.available, spent_recently, today, team_cfg.renews_on_day)
    return BalanceReport(
        team=team,
        plan_name=team_cfg.plan,
        monthly_credits=config.plans[team_cfg.plan].monthly_credits,
        balance=balance,
        cycle_start=current.cycle_start,
        renews_on=renews_on,
        spent_last_window=spent_recently,
        forecast=forecast,
        outlook=outlook,
        today=today,
        projects=projects,
        reconciliation=seen,
        outlier=outlier,
    )


def budgeted_projects(
    session: Session, config: CreditsConfig, *, workspace_id: str, team: str, cycle: date
) -> tuple[ProjectUse, ...]:
    """The team's projects with a budget in the cycle starting ``cycle``: budget, spent, held (largest first)."""
    since = datetime.combine(cycle, time(), tzinfo=config.teams[team].zone).astimezone(UTC)
    found = budget_store.project_uses(session, workspace_id=workspace_id, team=team, cycle=cycle, since=since)
    return tuple(
        sorted((u for u in found.values() if u.budget is not None), key=lambda u: (-(u.budget or 0), u.project))
    )


def recent_spend(session: Session, *, workspace_id: str, team: str, today: date) -> int:
    """What the team spent over the burn window ending today (its local days)."""
    return ledger_reads.spent_between(
        session,
        workspace_id=workspace_id,
        team=team,
        first_day=today - timedelta(days=BURN_WINDOW_DAYS - 1),
        last_day=today,
    )


def team_outlook(available: int, spent_recently: int, today: date, renews_on_day: int) -> CycleOutlook:
    """The run-out forecast within the cycle at the last window's pace, and the next cycle at that pace."""
    renews_on = next_renewal(today, renews_on_day)
    next_cycle_days = (next_renewal(renews_on, renews_on_day) - renews_on).days
    return cycle_outlook(available, burn_rate(spent_recently), today, renews_on, next_cycle_days)
