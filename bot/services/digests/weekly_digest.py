"""The weekly digest's figures for one team, the preview, and moving a team's digest slot.

Figures come from a handful of grouped queries (``bot.store.digest``) and the pure rules in
``bot.domain.digest``; the balance part reuses the balance service, so the digest and
``/credits balance`` never disagree about what a team has left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.credits_file import CreditsConfig, DigestSchedule, Team
from bot.domain.admin_commands import AdminDigestCommand
from bot.domain.budgets import ProjectUse
from bot.domain.calendar import local_date, next_renewal
from bot.domain.digest import (
    DIGEST_DAYS,
    LARGEST_TASKS,
    DailySeries,
    DigestFigures,
    daily_series,
    digest_window,
    next_slot,
    summarise_retries,
    summarise_spend,
    summarise_versions,
)
from bot.domain.errors import UserFacingError, unknown_name
from bot.domain.forecast import RunOutForecast, forecast_run_out
from bot.domain.ledger import Balance
from bot.services.balances.team_balances import budgeted_projects, current_balance
from bot.services.workspace.access import require_admin
from bot.services.workspace.members import Member
from bot.store import audit as audit_store
from bot.store import digest as store
from bot.store import keter_charges as charge_store
from bot.store import stale_holds as hold_store
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState


@dataclass(frozen=True)
class DigestReport:
    """One team's digest: the week's figures and where its balance stands now."""

    team: str
    timezone: str
    figures: DigestFigures
    plan_name: str
    monthly_credits: int
    balance: Balance
    renews_on: date
    forecast: RunOutForecast
    today: date  # the team's local day the figures were read
    projects: tuple[ProjectUse, ...] = ()  # client projects with a budget this cycle
    as_of: datetime | None = None  # the moment of the balance and forecast (the week's figures stop at its slot)


def permalink(workspace_url: str | None, channel: str, ts: str) -> str | None:
    """A message's permalink, built as Slack builds it from the workspace URL ``auth.test`` returns."""
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def compute_digest(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    team: str,
    end: datetime,
    now: datetime,
    workspace_url: str | None = None,
) -> DigestReport:
    """The digest of the seven days up to ``end`` (a slot, or now), with today's balance and forecast."""
    team_cfg: Team = config.teams[team]
    window = digest_window(end, team_cfg.zone)
    current = current_balance(db, config, workspace_id=workspace_id, team=team, now=now)
    where = {"workspace_id": workspace_id, "team": team}
    with db.read() as session:
        spend = summarise_spend(store.spend_rows(session, window=window, **where))
        groups = store.task_groups(session, start=window.start, end=window.end, **where)
        largest = store.largest_tasks(session, start=window.start, end=window.end, limit=LARGEST_TASKS, **where)
        threads = store.approval_messages(session, workspace_id=workspace_id, task_ids=[i for i, _ in largest])
        approvals = store.approval_counts(session, start=window.start, end=window.end, **where)
        released = hold_store.stale_releases(session, start=window.start, end=window.end, **where)
        feed = charge_store.week_feed_figures(session, start=window.start, end=window.end, **where)
        daily = store.daily_spend_rows(
            session, first_day=window.first_chart_day, last_day=window.last_chart_day, **where
        )
        projects = budgeted_projects(session, config, workspace_id=workspace_id, team=team, cycle=current.cycle_start)
    tasks = tuple(
        replace(task, approval_link=permalink(workspace_url, *threads[i])) if i in threads else task
        for i, task in largest
    )
    figures = DigestFigures(
        window=window,
        spend=spend,
        retries=summarise_retries(config.pricing, groups, spend.total),
        versions=summarise_versions(groups),
        approvals=approvals,
        largest=tasks,
        series=daily_series(window.chart_days, daily),
        released_unreported=released,
        feed=feed,
    )
    today = local_date(now, team_cfg.zone)
    renews_on = next_renewal(today, team_cfg.renews_on_day)
    burn = max(0, spend.total) / DIGEST_DAYS
    return DigestReport(
        team=team,
        timezone=team_cfg.timezone,
        figures=figures,
        plan_name=team_cfg.plan,
        monthly_credits=config.plans[team_cfg.plan].monthly_credits,
        balance=current.balance,
        renews_on=renews_on,
        forecast=forecast_run_out(current.balance.available, burn, today, renews_on),
        today=today,
        projects=projects,
        as_of=now,
    )


def preview_digest(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    team: str,
    now: datetime,
    workspace_url: str | None = None,
) -> DigestReport:
    """``/credits digest preview``: the digest of the last seven days, for the asker's eyes only.

    ``config`` is the workspace's effective config (``bot.services.workspace.effective_config``), moved slots included.
    """
    if team not in config.teams:
        raise unknown_name("team", team, config.teams)
    return compute_digest(
        db, config, workspace_id=workspace_id, team=team, end=now, now=now, workspace_url=workspace_url
    )


def set_digest_schedule(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminDigestCommand, now: datetime
) -> tuple[DigestSchedule, datetime]:
    """``/credits admin digest <team> <day> <hh:mm>``: move the slot; returns it and its next time (UTC).

    Slots are claimed by their start time, so a digest already posted this week is not posted again
    when the new slot falls less than six days after it; the move then takes effect the week after.
    """
    require_admin(config, admin, "move digests")
    if command.team not in config.teams:
        raise unknown_name("team", command.team, config.teams)
    try:
        schedule = DigestSchedule.parse(f"{command.day} {command.time}")
    except ValueError as exc:
        raise UserFacingError(f"{exc}.") from None
    team = config.teams[command.team]
    with db.write() as session:
        before = store.schedule_overrides(session, workspace_id=workspace_id).get(command.team, team.digest)
        store.set_schedule_override(
            session, workspace_id=workspace_id, team=command.team, schedule=str(schedule), set_by=admin.user_id, now=now
        )
        audit_store.add_entry(
            session,
            workspace_id=workspace_id,
            team=command.team,
            actor=admin.user_id,
            action="digest",
            target=command.team,
            details=json.dumps({"before": before, "after": str(schedule)}),
            now=now,
        )
    return schedule, next_slot(schedule, team.zone, now)


def spend_series(db: Database, config: CreditsConfig, *, workspace_id: str, team: str, now: datetime) -> DailySeries:
    """The digest chart's figures (spend per day and tool, four weeks to today) for the Home tab."""
    window = digest_window(now, config.teams[team].zone)
    with db.read() as session:
        daily = store.daily_spend_rows(
            session,
            workspace_id=workspace_id,
            team=team,
            first_day=window.first_chart_day,
            last_day=window.last_chart_day,
        )
    return daily_series(window.chart_days, daily)


@dataclass(frozen=True)
class HomeChartClaim:
    """This hour's Home chart of a team: a file to reference, or the claim to draw and upload it."""

    file_id: str | None
    claim_id: int | None = None
    version: int = 0


def claim_home_chart(db: Database, *, workspace_id: str, team: str, now: datetime) -> HomeChartClaim:
    """One upload per team per hour across processes: the first caller gets the claim, others a file id.

    Until this hour's chart is uploaded (or if its upload failed) the last uploaded one is referenced.
    """
    hour = now.replace(minute=0, second=0, microsecond=0)
    key = hour.strftime("%Y-%m-%dT%H")
    kind = PostKind.HOME_CHART
    with db.write() as session:
        existing = store.get_post(session, workspace_id=workspace_id, kind=kind, team=team, slot_key=key)
        if existing is not None and existing.chart_file_id:
            return HomeChartClaim(existing.chart_file_id)
        claim = None
        if existing is None:
            claim = store.insert_post(
                session,
                slot_key=key,
                slot_at=hour,
                state=PostState.CLAIMED,
                owner="home",
                channel_id=None,
                now=now,
                scheduled=False,
                workspace_id=workspace_id,
                kind=kind,
                team=team,
            )
        previous = store.latest_chart_file(session, workspace_id=workspace_id, kind=kind, team=team)
        if claim is None:
            return HomeChartClaim(previous)
        assert claim.id is not None
        return HomeChartClaim(previous, claim.id, claim.version)


def home_chart_uploaded(db: Database, claim: HomeChartClaim, *, file_id: str | None, now: datetime) -> None:
    """Record the hour's upload (or its failure: the last chart stays in use until the next hour)."""
    if claim.claim_id is None:
        return
    with db.write() as session:
        store.compare_and_set(
            session,
            post_id=claim.claim_id,
            version=claim.version,
            now=now,
            state=(PostState.POSTED if file_id else PostState.FAILED).value,
            chart_state="uploaded" if file_id else "failed",
            chart_file_id=file_id,
        )
