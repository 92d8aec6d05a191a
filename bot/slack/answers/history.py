"""``/credits history``: a page of the team's charge history, or the whole slice uploaded as a CSV file."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.history_commands import HistoryCommand
from bot.services.charges import history
from bot.slack.blocks.history import history_blocks, history_csv, history_text
from bot.slack.context import Reply, RequestContext
from bot.slack.outbound.names import member_names


def answer_history(ctx: RequestContext, command: HistoryCommand) -> Reply:
    """The first page (ephemeral), or with ``csv`` every row as a file in the member's DM with the bot."""
    viewer = ctx.member()
    zone = ctx.config.teams[viewer.team].zone
    slice_ = {"member": command.member, "tool": command.tool, "project": command.project}
    if command.csv:
        lines = list(
            history.every_line(
                ctx.deps.db,
                ctx.config,
                workspace_id=ctx.workspace_id,
                viewer=viewer,
                days=command.days,
                now=ctx.now,
                **slice_,
            )
        )
        names = member_names(ctx.client, sorted({line.member for line in lines if line.member}))
        content, count = history_csv(lines, zone, names)
        channel = ctx.client.conversations_open(users=ctx.user_id)["channel"]["id"]
        name = f"charge-history-{viewer.team}-{ctx.now.astimezone(zone):%Y-%m-%d}.csv"
        ctx.client.files_upload_v2(
            channel=channel,
            content=content,
            filename=name,
            title=name,
            initial_comment=f"Charge history of team {viewer.team}, last {command.days} days: {count:,} rows.",
        )
        text = f"Sent {count:,} rows of team {viewer.team}'s charge history to your direct messages as {name}."
        return Reply(text, [SectionBlock(text=text)])
    page = history.read_history(
        ctx.deps.db,
        ctx.config,
        workspace_id=ctx.workspace_id,
        viewer=viewer,
        days=command.days,
        now=ctx.now,
        member=command.member,
        tool=command.tool,
        project=command.project,
    )
    blocks = history_blocks(page, zone, first=True)
    if not page.lines and page.count == 0 and (command.member or command.tool or command.project):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Try fewer filters or more `days=`.")]))
    return Reply(history_text(page), blocks)
