"""``/credits admin …`` and ``/credits digest preview``."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.domain.admin_commands import (
    AdminAdjustCommand,
    AdminAuditCommand,
    AdminBudgetCommand,
    AdminDigestCommand,
    AdminHelpCommand,
    AdminLimitCommand,
    AdminMembersCommand,
    AdminRoleCommand,
    AdminTeamCommand,
    AdminTopupCommand,
)
from bot.domain.command_line import DigestPreviewCommand
from bot.services.admin import changes
from bot.services.admin.changes import AdminChange, LimitsSet, RoleSet, TeamSet
from bot.services.balances.project_budgets import BudgetSet, set_project_budget
from bot.services.digests.weekly_digest import preview_digest, set_digest_schedule
from bot.services.workspace.audit_trail import read_audit
from bot.slack.blocks.admin import (
    change_text,
    recorded_blocks,
    refusals_in_words,
    roster_blocks,
    roster_text,
    unchanged_blocks,
)
from bot.slack.blocks.audit import audit_blocks, audit_text
from bot.slack.blocks.digest import digest_blocks, digest_members, digest_text, schedule_moved_text
from bot.slack.blocks.format import credits, day_seen_from
from bot.slack.blocks.help import admin_help_blocks
from bot.slack.context import Reply, RequestContext
from bot.slack.outbound.names import member_names


def _recorded(text: str) -> Reply:
    return Reply(text, recorded_blocks(text))


def _changed(ctx: RequestContext, change_of: Callable[..., AdminChange], command: object, **keyed: str) -> Reply:
    """Call an admin service with what every change takes (db, config, workspace, admin, command, now)."""
    change = change_of(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now, **keyed
    )
    if isinstance(change, RoleSet | LimitsSet | TeamSet) and not change.changed:
        return Reply(change_text(change), unchanged_blocks(change_text(change)))
    return _recorded(change_text(change))


def answer_admin_help(ctx: RequestContext, command: AdminHelpCommand) -> Reply:
    """``/credits admin`` alone: every admin subcommand with an example."""
    return Reply("How to use /credits admin", admin_help_blocks())


@refusals_in_words
def answer_admin_role(ctx: RequestContext, command: AdminRoleCommand) -> Reply:
    """Give a member a role (the service refuses non-admins)."""
    return _changed(ctx, changes.set_role, command)


@refusals_in_words
def answer_admin_limit(ctx: RequestContext, command: AdminLimitCommand) -> Reply:
    """Change a role's limits."""
    return _changed(ctx, changes.set_limit, command)


@refusals_in_words
def answer_admin_topup(ctx: RequestContext, command: AdminTopupCommand) -> Reply:
    """Add extra credits; the request key makes a redelivery add nothing."""
    return _changed(ctx, changes.top_up, command, request_key=ctx.request_key)


@refusals_in_words
def answer_admin_adjust(ctx: RequestContext, command: AdminAdjustCommand) -> Reply:
    """Correct a team's credits with a ledger entry; the request key makes a redelivery add nothing."""
    return _changed(ctx, changes.adjust_credits, command, request_key=ctx.request_key)


@refusals_in_words
def answer_admin_team(ctx: RequestContext, command: AdminTeamCommand) -> Reply:
    """Create a team or change its channel and plan."""
    return _changed(ctx, changes.set_team, command)


@refusals_in_words
def answer_admin_members(ctx: RequestContext, command: AdminMembersCommand) -> Reply:
    """Each member's role in the team and whether the credits file or a command gave it."""
    roster = changes.team_roster(ctx.config, ctx.deps.config, admin=ctx.actor(), team=command.team)
    return Reply(roster_text(roster), roster_blocks(roster))


@refusals_in_words
def answer_admin_digest(ctx: RequestContext, command: AdminDigestCommand) -> Reply:
    """Move a team's weekly digest slot."""
    schedule, upcoming = set_digest_schedule(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now
    )
    return _recorded(schedule_moved_text(command.team, schedule, upcoming, ctx.config.teams[command.team].timezone))


def answer_digest_preview(ctx: RequestContext, command: DigestPreviewCommand) -> Reply:
    """The digest of the last seven days for the asker's team, shown only to them."""
    member = ctx.member(command.team)
    report = preview_digest(
        ctx.deps.db,
        ctx.config,
        workspace_id=ctx.workspace_id,
        team=member.team,
        now=ctx.now,
        workspace_url=ctx.client.auth_test().get("url"),
    )
    return Reply(digest_text(report), digest_blocks(report, names=member_names(ctx.client, digest_members(report))))


def audit_zone(ctx: RequestContext, team: str | None) -> ZoneInfo:
    """Times in the team's timezone; for all teams, the admin's own team's (UTC if they have none)."""
    name = team if team in ctx.config.teams else ctx.config.team_by_channel.get(ctx.channel_id)
    return ctx.config.teams[name].zone if name in ctx.config.teams else ZoneInfo("UTC")


@refusals_in_words
def answer_admin_audit(ctx: RequestContext, command: AdminAuditCommand) -> Reply:
    """The first page of the audit trail (admins only)."""
    page = read_audit(
        ctx.deps.db,
        ctx.config,
        workspace_id=ctx.workspace_id,
        admin=ctx.actor(),
        team=command.team,
        days=command.days,
        now=ctx.now,
    )
    return Reply(audit_text(page), audit_blocks(page, audit_zone(ctx, command.team), first=True))


def budget_text(change: BudgetSet) -> str:
    """``Project acme of team design: budget 1,500 credits until the renewal on Tue 1 Dec (660 used).``"""
    used = f"{credits(change.use.used)} used this cycle"
    if change.credits is None:
        return f"Project {change.project} of team {change.team} has no budget now ({used})."
    before = f", was {credits(change.before)}" if change.before is not None else ""
    renews = day_seen_from(change.renews_on, change.today)
    return (
        f"Project {change.project} of team {change.team}: budget {credits(change.credits)} until the renewal on "
        f"{renews}{before} ({used}, {credits(change.credits - change.use.used)} left)."
    )


@refusals_in_words
def answer_admin_budget(ctx: RequestContext, command: AdminBudgetCommand) -> Reply:
    """Set or remove a project's budget for the team's current cycle."""
    change = set_project_budget(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now
    )
    return _recorded(budget_text(change))
