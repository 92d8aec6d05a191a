"""Project budgets: ``/credits admin budget``, each project's budget, spent and left, and its alerts.

A budget belongs to the team's current cycle (set again for the next one). What a project used is read
from its tasks: charged since the cycle began, plus what its open tasks hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain.admin_commands import AdminBudgetCommand
from bot.domain.budgets import ProjectUse, crossed_project_thresholds
from bot.domain.calendar import cycle_start, local_date, next_renewal
from bot.domain.errors import unknown_name
from bot.services.balances.team_balances import budgeted_projects
from bot.services.workspace.access import audit_change, require_admin
from bot.services.workspace.members import Member
from bot.store import budgets as store
from bot.store.db import Database


@dataclass(frozen=True)
class BudgetSet:
    """``/credits admin budget``: the project's budget this cycle (None: removed) and what it used."""

    team: str
    project: str
    credits: int | None
    before: int | None
    use: ProjectUse
    renews_on: date
    today: date  # the team's local day, so a renewal reads as everywhere else (year when not this one)


@dataclass(frozen=True)
class ProjectAlert:
    """A project's charges this cycle have reached ``threshold`` % of its budget."""

    team: str
    project: str
    threshold: int
    use: ProjectUse
    cycle_start: date
    renews_on: date
    today: date

    @property
    def key(self) -> str:
        """Its slot, once per project, threshold and cycle: ``2026-11-01:acme:80``."""
        return f"{self.cycle_start.isoformat()}:{self.project}:{self.threshold}"


def team_cycle(config: CreditsConfig, team: str, now: datetime) -> tuple[date, datetime]:
    """The team's current cycle: its first local day, and that day's midnight (team's timezone) in UTC."""
    team_cfg = config.teams[team]
    start = cycle_start(local_date(now, team_cfg.zone), team_cfg.renews_on_day)
    return start, datetime.combine(start, time(), tzinfo=team_cfg.zone).astimezone(UTC)


def projects_in_session(
    session: Session, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime, project: str | None = None
) -> dict[str, ProjectUse]:
    """The team's projects this cycle (or just ``project``), by name."""
    cycle, since = team_cycle(config, team, now)
    return store.project_uses(session, workspace_id=workspace_id, team=team, cycle=cycle, since=since, project=project)


def project_use(
    session: Session, config: CreditsConfig, *, workspace_id: str, team: str, project: str, now: datetime
) -> ProjectUse:
    """One project's budget, spent and held this cycle (no budget and no tasks: all zero)."""
    found = projects_in_session(session, config, workspace_id=workspace_id, team=team, now=now, project=project)
    return found.get(project, ProjectUse(project, None))


def team_projects(
    db: Database, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime
) -> tuple[ProjectUse, ...]:
    """Projects with a budget this cycle (largest budget first)."""
    cycle, _ = team_cycle(config, team, now)
    with db.read() as session:
        return budgeted_projects(session, config, workspace_id=workspace_id, team=team, cycle=cycle)


def set_project_budget(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminBudgetCommand, now: datetime
) -> BudgetSet:
    """Set or remove a project's budget for the team's current cycle (admins only, audited)."""
    require_admin(config, admin, "set project budgets")
    if command.team not in config.teams:
        raise unknown_name("team", command.team, config.teams)
    cycle, _ = team_cycle(config, command.team, now)
    with db.write() as session:
        before = store.set_budget(
            session,
            workspace_id=workspace_id,
            team=command.team,
            project=command.project,
            cycle=cycle,
            credits=command.credits,
            now=now,
        )
        audit_change(
            session,
            admin,
            workspace_id,
            "budget",
            f"{command.team}/{command.project}",
            now,
            team=command.team,
            cycle=cycle.isoformat(),
            before=before,
            after=command.credits,
        )
        use = project_use(
            session, config, workspace_id=workspace_id, team=command.team, project=command.project, now=now
        )
    team_cfg = config.teams[command.team]
    today = local_date(now, team_cfg.zone)
    renews_on = next_renewal(today, team_cfg.renews_on_day)
    return BudgetSet(command.team, command.project, command.credits, before, use, renews_on, today)


def project_alerts(db: Database, config: CreditsConfig, *, workspace_id: str, now: datetime) -> list[ProjectAlert]:
    """Every threshold each project's charges have reached this cycle (claims decide which are new)."""
    alerts: list[ProjectAlert] = []
    for team, team_cfg in config.teams.items():
        cycle, _ = team_cycle(config, team, now)
        today = local_date(now, team_cfg.zone)
        renews_on = next_renewal(today, team_cfg.renews_on_day)
        for use in team_projects(db, config, workspace_id=workspace_id, team=team, now=now):
            assert use.budget is not None
            alerts += [
                ProjectAlert(team, use.project, threshold, use, cycle, renews_on, today)
                for threshold in crossed_project_thresholds(use.spent, use.budget)
            ]
    return alerts
