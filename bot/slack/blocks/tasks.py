"""Answers to ``run``, ``done``, ``cancel``, ``tasks`` and ``limits`` (all ephemeral)."""

from __future__ import annotations

import json
from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.keter_charges import task_reference
from bot.domain.lifecycle import TaskStatus
from bot.domain.limits import LimitCheck
from bot.services.tasks.overruns import OverrunFlag, Repricing
from bot.services.tasks.run_and_done import FinishResult, RunResult
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.slack.blocks.approval import already_charged, task_line
from bot.slack.blocks.asks import ask_buttons
from bot.slack.blocks.format import credits, day, number, plural
from bot.slack.ids import ActionId, BlockId

STATUS_WORDS = {
    TaskStatus.HELD: "reserved",
    TaskStatus.PENDING: "waiting for approval",
}


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def finish_hint(task: TaskRecord) -> str:
    """How to finish or drop a task."""
    return (
        f"When it is done: `/credits done {task.number} retries=<n> kept=<n>` (or `cost=<credits>`); "
        f"to drop it: `/credits cancel {task.number}`."
    )


def reserved_blocks(result: RunResult) -> list[Block]:
    """Within limits: the credits are reserved."""
    assert result.task is not None
    task = result.task
    what = task_line(task, numbered=False)
    return [
        _section(
            f":white_check_mark: *Task #{task.number} reserved*: {credits(task.held)} for {what}.\n"
            f"Team {task.team} has {credits(result.report.available_after)} available after it."
            + _project_after(result)
        ),
        _context(finish_hint(task)),
        reference_block(task.number, result.project),
    ]


def reference_block(number: int, project: str | None) -> Block:
    """Where to put the task's reference in Keter Labs so its charges find it."""
    tag = f" (project {project})" if project else ""
    return ContextBlock(
        block_id=BlockId.TASK_REFERENCE,
        elements=[
            MarkdownTextObject(
                text=f"Reference *{task_reference(number)}*{tag}: put it in the task's project or tag field in "
                "Keter Labs, so its charges are matched to this task."
            )
        ],
    )


def _project_after(result: RunResult) -> str:
    """`` Project acme has 340 credits left of its 1,000 budget.`` (nothing without a budget)."""
    use, after = result.report.project, result.report.project_after
    if use is None or use.budget is None or after is None:
        return ""
    left = f"{credits(after)} left" if after >= 0 else f"{credits(-after)} over"
    return f"\nProject {use.project} has {left} of its {number(use.budget)} budget."


def pending_blocks(result: RunResult, permalink: str | None, run_text: str = "") -> list[Block]:
    """Over a limit: held meanwhile, and where the request is."""
    assert result.task is not None and result.approval is not None
    task, approval = result.task, result.approval
    where = f"<{permalink}|the request in the team's channel>" if permalink else "the team's channel"
    return [
        _section(
            f":hourglass: *Task #{task.number} needs approval*: {approval.reasons}.\n"
            f"{credits(approval.amount)} are held while an approver decides; see {where}."
        ),
        reference_block(task.number, result.project),
        _context(
            "You'll be mentioned in its thread when it is decided."
            + (" For tasks like it later, ask an admin to raise your limits:" if result.report.limits.breaches else "")
        ),
        *ask_buttons(run_text, limit_raise=bool(result.report.limits.breaches), extra_credits=False),
    ]


def ago(seconds: int) -> str:
    """``just now`` (under 10 seconds), ``1 second ago``… ``89 seconds ago``, ``2 minutes ago``."""
    if seconds < 10:
        return "just now"
    return f"{plural(seconds, 'second')} ago" if seconds < 90 else f"{plural(round(seconds / 60), 'minute')} ago"


def duplicate_blocks(result: RunResult, command_text: str, seconds_ago: int) -> list[Block]:
    """The same task a moment ago: ask before charging twice."""
    assert result.task is not None
    task = result.task
    return [
        _section(
            f":repeat: You started the same task *#{task.number}* {ago(seconds_ago)} ({task_line(task)}, "
            f"{STATUS_WORDS.get(task.status, task.status)}). Did you mean a second one?"
        ),
        ActionsBlock(
            block_id=BlockId.TASK_ACTIONS,
            elements=[
                ButtonElement(
                    text="Start a second task", action_id=ActionId.RUN_AGAIN, value=run_again_value(task, command_text)
                ),
            ],
        ),
        _context(f"If Slack showed a timeout, the first one went through: nothing more to do. {finish_hint(task)}"),
    ]


RUN_AGAIN_COMMAND_CHARS = 1900  # Slack's 2,000-character button value, less room for the task id


def run_again_value(task: TaskRecord, command_text: str) -> str:
    """The button's value: the task it was shown for (so a second click starts nothing) and the command."""
    return json.dumps({"again_of": task.id, "run": command_text[:RUN_AGAIN_COMMAND_CHARS]}, separators=(",", ":"))


def read_run_again_value(value: str) -> tuple[int | None, str]:
    """The task the button was shown for and the command; a button from before carried the command alone."""
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return None, value
        if isinstance(data, dict) and isinstance(data.get("run"), str):
            again_of = data.get("again_of")
            return (again_of if isinstance(again_of, int) and not isinstance(again_of, bool) else None), data["run"]
    return None, value


def already_started_blocks(task: TaskRecord) -> list[Block]:
    """ "Start a second task" clicked again: say which task the first click started."""
    return [
        _section(
            f":information_source: That second task was already started as task #{task.number} "
            f"({STATUS_WORDS.get(task.status, task.status)}). `/credits tasks` lists your open tasks."
        )
    ]


def finish_blocks(result: FinishResult) -> list[Block]:
    """What was charged and released; when the rates changed since the reservation; a flag; overdrawn."""
    task = result.task
    assumed = " (no `retries=` given: charged as none)" if result.retries_assumed else ""
    kept = f" {plural(task.kept, 'successful version')}." if task.kept is not None else ""
    released = f", {credits(result.released)} released" if result.released else ""
    blocks: list[Block] = [
        _section(
            f":white_check_mark: Task #{task.number} done: {credits(result.charged)} charged{released}{assumed}.{kept}"
        )
    ]
    notes = []
    if result.reported_late:
        notes.append(
            "Its hold had already been given back (it went unreported too long), so the cost is charged "
            "from the team's available credits now."
        )
    if result.repricing is not None:
        notes.append(repricing_text(result.repricing))
    if result.flag is not None:
        notes.append(
            f"That is {credits(result.charged - result.flag.held)} above what was reserved "
            f"({'; '.join(result.flag.broken)}): it is charged all the same and the team's channel is told."
        )
    if result.overdrawn_by:
        notes.append(
            f":warning: Team {task.team} is now overdrawn by {credits(result.overdrawn_by)}; "
            "no new task can start until an admin adds credits."
        )
    if notes:
        blocks.append(_context("\n".join(notes)))
    return blocks


def repricing_text(repricing: Repricing) -> str:
    """``Charged at the rates of Tue 24 Nov, when it was reserved; today's rate is 12/variant.``"""
    unit = repricing.unit
    if repricing.today_rate is None:
        today = "that tool or quality is no longer priced"
    else:
        today = f"today's rate is {number(repricing.today_rate)}/{unit}"
    return (
        f"Charged at the rates of {day(repricing.reserved_on)}, when it was reserved "
        f"({number(repricing.reserved_rate)}/{unit}); {today}."
    )


def flag_text(flag: OverrunFlag) -> str:
    """The notice for the team's channel: who, which task, quote, real cost and the limit broken."""
    return (
        f":triangular_flag_on_post: <@{flag.member}>'s task #{flag.task_number} cost {credits(flag.cost)} "
        f"against a quote of {credits(flag.quoted)}: {'; '.join(flag.broken)}. "
        "It is charged (a charge is a fact); a lead may want to follow up."
    )


def flag_blocks(flag: OverrunFlag) -> list[Block]:
    """The flag as one section."""
    return [_section(flag_text(flag))]


def cancel_blocks(task: TaskRecord, released: int, approval: ApprovalRecord | None) -> list[Block]:
    """A task dropped."""
    extra = " Its approval request was withdrawn." if approval else ""
    return [_section(f"Task #{task.number} cancelled: {credits(released)} released.{extra}")]


def tasks_blocks(tasks: list[TaskRecord]) -> list[Block]:
    """My open tasks, newest last."""
    if not tasks:
        return [_section("You have no open tasks. Start one with `/credits run <tool> …`.")]
    several = len({t.team for t in tasks}) > 1
    lines: list[str] = []
    for i, t in enumerate(tasks[:40]):
        if several and (i == 0 or tasks[i - 1].team != t.team):
            lines.append(f"*Team {t.team}*")
        charged = already_charged(t)
        if t.status == TaskStatus.PENDING and charged is not None:  # its hold may be spent already
            lines.append(f"• *{task_line(t)}*: waiting for approval; {charged}")
        else:
            lines.append(f"• *{task_line(t)}*: {credits(t.held)} {STATUS_WORDS.get(t.status, t.status)}")
    more = [_context(f"…and {len(tasks) - 40} more.")] if len(tasks) > 40 else []
    return [
        _section("*Your open tasks*\n" + "\n".join(lines)),
        *more,
        _context(
            "`/credits done <n> retries=<n>` records what one cost; `/credits cancel <n>` drops it"
            + (" (add `team=<name>` outside that team's channel)." if several else ".")
        ),
    ]


def limits_blocks(
    user_id: str, team: str, limits: LimitCheck, can_approve_up_to: str, raised_until: date | None = None
) -> list[Block]:
    """Role, limits (raised by an approved request, until when) and this week's use."""
    task = "no limit" if limits.task_limit is None else credits(limits.task_limit)
    if limits.weekly_limit is None:
        weekly = f"no limit ({credits(limits.weekly_used)} used this week)"
    else:
        over = limits.weekly_used - limits.weekly_limit
        rest = f"*{credits(over)} over*" if over > 0 else f"{credits(limits.weekly_limit - limits.weekly_used)} left"
        weekly = f"{credits(limits.weekly_used)} used of {credits(limits.weekly_limit)}, {rest}"
    return [
        _section(
            f"*<@{user_id}>* in team {team}: role *{limits.role}*\n"
            f"*Per task*: {task}\n*This week* (since Monday 00:00): {weekly}\n*Can approve*: {can_approve_up_to}"
            + (
                f"\n:arrow_up: *Raised* by an approved request until {day(raised_until)} (end of that day)"
                if raised_until is not None
                else ""
            )
        ),
    ]


def notice_blocks(text: str) -> list[Block]:
    """A one-line confirmation."""
    return [_section(text)]
