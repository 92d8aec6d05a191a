"""``/credits admin …`` and ``/credits digest preview``."""

from __future__ import annotations

from bot.domain.admin_commands import (
    AdminCommand,
    AdminDigestCommand,
    AdminLimitCommand,
    AdminRoleCommand,
    AdminTeamCommand,
    AdminTopupCommand,
)
from bot.domain.command_line import DigestPreviewCommand
from bot.services import admin
from bot.services.digests import preview_digest, set_digest_schedule
from bot.slack.blocks.digest import digest_blocks, digest_text, schedule_moved_text
from bot.slack.blocks.format import credits
from bot.slack.blocks.tasks import notice_blocks
from bot.slack.listeners.commands.context import CommandContext, Reply


def _limit(value: int | None) -> str:
    return "no limit" if value is None else credits(value)


def answer_admin(ctx: CommandContext, command: AdminCommand) -> Reply:
    """Run one admin command (the service refuses non-admins) and confirm it."""
    me = ctx.actor()
    db, config = ctx.deps.db, ctx.config
    if isinstance(command, AdminRoleCommand):
        team, role = admin.set_role(db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now)
        text = f"<@{command.member}> is now *{role}* in team {team}."
    elif isinstance(command, AdminLimitCommand):
        task, week = admin.set_limit(db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now)
        text = f"Role *{command.role}*: per task {_limit(task)}, per week {_limit(week)}."
    elif isinstance(command, AdminTopupCommand):
        balance = admin.top_up(
            db,
            config,
            workspace_id=ctx.workspace_id,
            admin=me,
            command=command,
            request_key=ctx.request_key,
            now=ctx.now,
        )
        text = (
            f"Added {credits(command.credits)} extra credits to team {command.team}: "
            f"{credits(balance.extra)} extra, {credits(balance.available)} available."
        )
    elif isinstance(command, AdminTeamCommand):
        created = admin.set_team(db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now)
        verb = "created" if created else "updated"
        text = f"Team {command.team} {verb}: channel <#{command.channel}>, plan {command.plan}."
    else:
        assert isinstance(command, AdminDigestCommand)
        schedule, upcoming = set_digest_schedule(
            db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now
        )
        text = schedule_moved_text(command.team, schedule, upcoming, config.teams[command.team].timezone)
    return Reply(text, notice_blocks(f":white_check_mark: {text} (recorded in the audit trail)"))


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
