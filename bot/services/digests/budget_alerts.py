"""Budget alerts: which teams' spend this cycle has reached 50, 80 or 100 % of their plan credits.

The running balance row already holds the cycle's spend, so this reads one row per team. A row whose
cycle has ended (no request since the renewal) is left alone: its spend belongs to a finished cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.credits_file import CreditsConfig
from bot.domain.calendar import cycle_start, local_date, next_renewal
from bot.domain.digest import crossed_thresholds
from bot.domain.forecast import CycleOutlook, percent_used
from bot.domain.ledger import Balance
from bot.services.balances.team_balances import recent_spend, team_outlook
from bot.store import ledger_reads
from bot.store.db import Database


@dataclass(frozen=True)
class BudgetAlert:
    """A team's spend this cycle against its plan credits, at one threshold it has reached."""

    team: str
    threshold: int
    spent: int
    monthly_credits: int
    cycle_start: date
    renews_on: date
    balance: Balance
    outlook: CycleOutlook  # at the last 7 days' pace, within the cycle

    @property
    def percent(self) -> int:
        """The real share of the plan credits spent (55 when 2,746 of 5,000), not the threshold."""
        return percent_used(self.spent, self.monthly_credits)

    @property
    def key(self) -> str:
        """The alert's slot: once per threshold per cycle."""
        return alert_key(self.cycle_start, self.threshold)


def alert_key(cycle: date, threshold: int) -> str:
    """``2026-11-01:80``."""
    return f"{cycle.isoformat()}:{threshold}"


def parse_alert_key(key: str) -> tuple[date, int]:
    """The cycle start and threshold an alert key names."""
    cycle, _, threshold = key.partition(":")
    return date.fromisoformat(cycle), int(threshold)


def budget_alerts(db: Database, config: CreditsConfig, *, workspace_id: str, now: datetime) -> list[BudgetAlert]:
    """Every threshold each team has reached in its current cycle (claims decide which are new)."""
    with db.read() as session:
        rows = ledger_reads.team_balances(session, workspace_id=workspace_id)
    alerts: list[BudgetAlert] = []
    for team, team_cfg in config.teams.items():
        row = rows.get(team)
        monthly = config.plans[team_cfg.plan].monthly_credits
        if row is None or monthly <= 0:
            continue
        today = local_date(now, team_cfg.zone)
        if row.cycle_start < cycle_start(today, team_cfg.renews_on_day):
            continue
        balance = ledger_reads.as_balance(row)
        renews_on = next_renewal(today, team_cfg.renews_on_day)
        thresholds = crossed_thresholds(balance.spent, monthly)
        if not thresholds:
            continue
        with db.read() as session:
            spent_recently = recent_spend(session, workspace_id=workspace_id, team=team, today=today)
        outlook = team_outlook(balance.available, spent_recently, today, team_cfg.renews_on_day)
        alerts += [
            BudgetAlert(team, threshold, balance.spent, monthly, row.cycle_start, renews_on, balance, outlook)
            for threshold in thresholds
        ]
    return alerts
