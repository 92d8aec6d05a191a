"""``requests``: what I can decide now."""

from __future__ import annotations

from bot.domain.task_commands import RequestsCommand
from bot.services.approvals import nudges as approval_nudges
from bot.services.workspace.members import bot_admins
from bot.slack.blocks.home import Decidable, requests_blocks
from bot.slack.context import Reply, RequestContext
from bot.slack.outbound.home_tabs import thread_link


def answer_requests(ctx: RequestContext, command: RequestsCommand) -> Reply:
    """Pending requests I am eligible to decide, oldest first, with their buttons and thread links."""
    is_admin = ctx.user_id in bot_admins(ctx.config) or ctx.deps.workspace_admins.is_admin(
        ctx.client, ctx.workspace_id, ctx.user_id
    )
    found = approval_nudges.pending_for(
        ctx.deps.db,
        ctx.config,
        workspace_id=ctx.workspace_id,
        user_id=ctx.user_id,
        is_workspace_admin=is_admin,
        now=ctx.now,
    )
    items = [
        Decidable(a, t, thread_link(ctx.client, a.channel_id, a.message_ts), ctx.config.teams[a.team].zone)
        for a, t in found
        if a.team in ctx.config.teams
    ]
    return Reply(f"{len(items)} requests to decide", requests_blocks(items))
