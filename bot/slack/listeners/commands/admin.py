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
from bot.slack.blocks.admin import change_text, recorded_blocks, refusals_in_words
from bot.slack.blocks.digest import digest_blocks, digest_text, schedule_moved_text
from bot.slack.listeners.commands.context import CommandContext, Reply


@refusals_in_words
def answer_admin(ctx: CommandContext, command: AdminCommand) -> Reply:
    """Run one admin command (the service refuses non-admins) and confirm it."""
    me = ctx.actor()
    db, config = ctx.deps.db, ctx.config
    if isinstance(command, AdminRoleCommand):
        role = admin.set_role(db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now)
        text = change_text(role)
    elif isinstance(command, AdminLimitCommand):
        limits = admin.set_limit(db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now)
        text = change_text(limits)
    elif isinstance(command, AdminTopupCommand):
        topped_up = admin.top_up(
            db,
            config,
            workspace_id=ctx.workspace_id,
            admin=me,
            command=command,
            request_key=ctx.request_key,
            now=ctx.now,
        )
        text = change_text(topped_up)
    elif isinstance(command, AdminTeamCommand):
        team = admin.set_team(db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now)
        text = change_text(team)
    else:
        assert isinstance(command, AdminDigestCommand)
        schedule, upcoming = set_digest_schedule(
            db, config, workspace_id=ctx.workspace_id, admin=me, command=command, now=ctx.now
        )
        text = schedule_moved_text(command.team, schedule, upcoming, config.teams[command.team].timezone)
    return Reply(text, recorded_blocks(text))


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
