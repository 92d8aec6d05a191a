"""Keter Labs' own balance for a team (``balance.updated``), kept beside the bot's figure, and its alerts."""

from __future__ import annotations

from datetime import datetime

from bot.credits_file import CreditsConfig
from bot.domain.keter_charges import KeterBalanceData, Reconciliation
from bot.services.balances.team_balances import open_team_cycle
from bot.services.charges.recording import bot_team
from bot.store import keter_charges as charge_store
from bot.store.db import Database
from bot.store.tables.keter import KeterBalance

__all__ = ["Reconciliation", "claim_balance_alerts", "reconciliation", "record_keter_balance"]


def record_keter_balance(
    db: Database, config: CreditsConfig, *, workspace_id: str, data: KeterBalanceData, now: datetime
) -> Reconciliation:
    """Keep the newest ``balance.updated`` of a team beside the bot's own figure at that moment."""
    team = bot_team(config, data.team)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
        difference = (data.plan_credits + data.extra_credits) - (row.plan + row.extra)
        snapshot = charge_store.keter_balance(session, workspace_id=workspace_id, team=team)
        if snapshot is not None and snapshot.as_of > data.as_of:
            return charge_store.as_reconciliation(snapshot)
        if snapshot is None:
            snapshot = KeterBalance(
                workspace_id=workspace_id,
                team=team,
                plan_credits=data.plan_credits,
                extra_credits=data.extra_credits,
                as_of=data.as_of,
            )
        snapshot.plan_credits, snapshot.extra_credits = data.plan_credits, data.extra_credits
        snapshot.as_of, snapshot.difference = data.as_of, difference
        session.add(snapshot)
        return charge_store.as_reconciliation(snapshot)


def reconciliation(db: Database, *, workspace_id: str, team: str) -> Reconciliation | None:
    """The team's newest Keter Labs balance and how far the bot was from it (None: none received).

    ``/credits balance`` reads it inside ``balance_report``'s one read transaction instead.
    """
    with db.read() as session:
        return charge_store.reconciliation(session, workspace_id=workspace_id, team=team)


def claim_balance_alerts(db: Database, config: CreditsConfig, *, workspace_id: str) -> list[Reconciliation]:
    """Differences beyond ``feed.tolerance`` the admins were not told about yet, claimed (told once each)."""
    claimed: list[Reconciliation] = []
    with db.write() as session:
        for snapshot in charge_store.keter_balances(session, workspace_id=workspace_id):
            if abs(snapshot.difference) <= config.feed.tolerance:
                continue
            if snapshot.alerted_difference == snapshot.difference or snapshot.team not in config.teams:
                continue
            snapshot.alerted_difference = snapshot.difference
            session.add(snapshot)
            claimed.append(charge_store.as_reconciliation(snapshot))
    return claimed
