"""``/credits admin …`` and ``/credits digest preview``."""

from __future__ import annotations

from bot.domain.admin_commands import (
    AdminDigestCommand,
    AdminHelpCommand,
    AdminLimitCommand,
    AdminRoleCommand,
    AdminTeamCommand,
    AdminTopupCommand,
)
from bot.domain.command_line import DigestPreviewCommand
from bot.services import admin
from bot.services.digests import preview_digest, set_digest_schedule
from bot.slack.answers.context import CommandContext, Reply
from bot.slack.blocks.digest import digest_blocks, digest_text, schedule_moved_text
from bot.slack.blocks.format import credits
from bot.slack.blocks.help import admin_help_blocks
from bot.slack.blocks.tasks import notice_blocks


def _limit(value: int | None) -> str:
    return "no limit" if value is None else credits(value)


def _recorded(text: str) -> Reply:
    return Reply(text, notice_blocks(f":white_check_mark: {text} (recorded in the audit trail)"))


def answer_admin_help(ctx: CommandContext, command: AdminHelpCommand) -> Reply:
    """``/credits admin`` alone: every admin subcommand with an example."""
    return Reply("How to use /credits admin", admin_help_blocks())


def answer_admin_role(ctx: CommandContext, command: AdminRoleCommand) -> Reply:
    """Give a member a role (the service refuses non-admins)."""
    team, role = admin.set_role(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now
    )
    return _recorded(f"<@{command.member}> is now *{role}* in team {team}.")


def answer_admin_limit(ctx: CommandContext, command: AdminLimitCommand) -> Reply:
    """Change a role's limits."""
    task, week = admin.set_limit(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now
    )
    return _recorded(f"Role *{command.role}*: per task {_limit(task)}, per week {_limit(week)}.")


def answer_admin_topup(ctx: CommandContext, command: AdminTopupCommand) -> Reply:
    """Add extra credits; the request key makes a redelivery add nothing."""
    balance = admin.top_up(
        ctx.deps.db,
        ctx.config,
        workspace_id=ctx.workspace_id,
        admin=ctx.actor(),
        command=command,
        request_key=ctx.request_key,
        now=ctx.now,
    )
    return _recorded(
        f"Added {credits(command.credits)} extra credits to team {command.team}: "
        f"{credits(balance.extra)} extra, {credits(balance.available)} available."
    )


def answer_admin_team(ctx: CommandContext, command: AdminTeamCommand) -> Reply:
    """Create a team or change its channel and plan."""
    created = admin.set_team(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now
    )
    verb = "created" if created else "updated"
    return _recorded(f"Team {command.team} {verb}: channel <#{command.channel}>, plan {command.plan}.")


def answer_admin_digest(ctx: CommandContext, command: AdminDigestCommand) -> Reply:
    """Move a team's weekly digest slot."""
    schedule, upcoming = set_digest_schedule(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, admin=ctx.actor(), command=command, now=ctx.now
    )
    return _recorded(schedule_moved_text(command.team, schedule, upcoming, ctx.config.teams[command.team].timezone))


def answer_digest_preview(ctx: CommandContext, command: DigestPreviewCommand) -> Reply:
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
    return Reply(digest_text(report), digest_blocks(report))
