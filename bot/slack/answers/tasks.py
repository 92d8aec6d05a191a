"""``run``, ``done``, ``cancel``, ``tasks`` and ``limits``."""

from __future__ import annotations

from bot.credits_file import ADMIN_ROLE
from bot.domain.task_commands import CancelCommand, DoneCommand, LimitsCommand, RunCommand, TasksCommand
from bot.services.quoting.quotes import member_limits
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import run_and_done as tasks
from bot.slack.blocks.format import credits, plural
from bot.slack.blocks.tasks import (
    cancel_blocks,
    duplicate_blocks,
    finish_blocks,
    limits_blocks,
    pending_blocks,
    reserved_blocks,
    tasks_blocks,
)
from bot.slack.context import Reply, RequestContext
from bot.slack.outbound.announce import announce_safely, post_flag, post_request


def answer_run(
    ctx: RequestContext, command: RunCommand, *, allow_duplicate: bool = False, again_of: int | None = None
) -> Reply:
    """Reserve the task's credits, or hold them and post an approval request.

    ``again_of``: "Start a second task" clicked on the warning about that task; a second click is told
    which task the first one started (``tasks.AlreadyStartedError``), and nothing is written.
    """
    member = ctx.member(command.request.team)
    result = tasks.start_task(
        ctx.deps.db,
        ctx.config,
        workspace_id=ctx.workspace_id,
        member=member,
        command=command,
        now=ctx.now,
        allow_duplicate=allow_duplicate,
        again_of=again_of,
    )
    assert result.task is not None
    if result.kind == "duplicate":
        seconds = int((ctx.now - result.task.created_at).total_seconds())
        return Reply(
            f"You started the same task #{result.task.number} a moment ago", duplicate_blocks(result, ctx.text, seconds)
        )
    if result.kind == "reserved":
        return Reply(f"Task #{result.task.number} reserved", reserved_blocks(result))
    assert result.approval is not None
    permalink = post_request(
        ctx.deps, ctx.client, ctx.config, result.approval, result.task, week_spend=result.week_spend
    )
    return Reply(f"Task #{result.task.number} needs approval", pending_blocks(result, permalink, ctx.text))


def answer_done(ctx: RequestContext, command: DoneCommand) -> Reply:
    """Charge what the task cost; an overrun that broke a limit is flagged in the team's channel."""
    member = ctx.member(command.team)
    result = tasks.finish_task(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, member=member, command=command, now=ctx.now
    )
    if result.flag is not None:
        post_flag(ctx.client, result.flag)
    return Reply(f"Task #{result.task.number} done: {result.charged:,} credits charged", finish_blocks(result))


def answer_cancel(ctx: RequestContext, command: CancelCommand) -> Reply:
    """Release the hold; withdraw a pending request and redraw it."""
    member = ctx.member(command.team)
    task, released, approval = task_cancel.cancel_task(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, member=member, command=command, now=ctx.now
    )
    if approval is not None:
        announce_safely(ctx.deps, ctx.client, ctx.config, approval, task)
    return Reply(f"Task #{task.number} cancelled", cancel_blocks(task, released, approval))


def answer_tasks(ctx: RequestContext, command: TasksCommand) -> Reply:
    """My open tasks in every team I am in (or the one named), grouped by team."""
    teams = [name for name, team in ctx.config.teams.items() if ctx.user_id in team.members]
    if command.team is not None or not teams:
        teams = [ctx.member(command.team).team]
    open_tasks = tasks.my_open_tasks(ctx.deps.db, workspace_id=ctx.workspace_id, user_id=ctx.user_id, teams=teams)
    return Reply(plural(len(open_tasks), "open task"), tasks_blocks(open_tasks))


def answer_limits(ctx: RequestContext, command: LimitsCommand) -> Reply:
    """Role, limits and this week's use, for me or a member of my team."""
    me = ctx.member(command.team)
    target = ctx.member(me.team, user_id=command.member) if command.member else me
    limits, raised_until = member_limits(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, member=target, now=ctx.now
    )
    role = ctx.config.roles[target.role]
    approve = (
        "anything"
        if target.role == ADMIN_ROLE
        else f"up to {credits(role.can_approve_up_to)}"
        if role.can_approve_up_to
        else "nothing"
    )
    return Reply(
        f"Limits of <@{target.user_id}>", limits_blocks(target.user_id, target.team, limits, approve, raised_until)
    )
