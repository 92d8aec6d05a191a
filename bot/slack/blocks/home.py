"""The Home tab: Me, Team (per team I am in), To decide, and a Quote button; short lines for a phone."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.limits import LimitCheck
from bot.services.balances.team_balances import BalanceReport
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.slack.blocks.approval import already_charged, task_line
from bot.slack.blocks.balance import balance_figures, forecast_line
from bot.slack.blocks.format import credits, number, when
from bot.slack.ids import ActionId, BlockId

MAX_TASKS_SHOWN = 10  # each task is two blocks; Slack allows 100 blocks in a Home tab
MAX_REQUESTS_SHOWN = 10


@dataclass(frozen=True)
class TeamHome:
    """One team I am in, as the Home tab shows it."""

    team: str
    zone: ZoneInfo
    limits: LimitCheck
    open_tasks: list[TaskRecord]
    balance: BalanceReport
    chart_file_id: str | None


@dataclass(frozen=True)
class Decidable:
    """A pending request I may decide, with a link to its thread."""

    approval: ApprovalRecord
    task: TaskRecord
    link: str | None
    zone: ZoneInfo


def _md(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text))


def _me(home: TeamHome) -> list[Block]:
    limits = home.limits
    weekly = "used, no weekly limit" if limits.weekly_limit is None else f"used of {number(limits.weekly_limit)}"
    per_task = "no per-task limit" if limits.task_limit is None else f"per task {credits(limits.task_limit)}"
    blocks: list[Block] = [
        _md(
            f"*This week*: {credits(limits.weekly_used)} {weekly}\n*Role*: {limits.role} · {per_task}",
        )
    ]
    if not home.open_tasks:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No open tasks.")]))
    for task in home.open_tasks[:MAX_TASKS_SHOWN]:
        value = f"{home.team}:{task.number}"
        blocks += [
            _md(f"*{task_line(task)}* · {task.status} · holds {credits(task.held)}"),
            ActionsBlock(
                elements=[
                    ButtonElement(text="Done", action_id=ActionId.HOME_DONE, value=value, style="primary"),
                    ButtonElement(text="Cancel", action_id=ActionId.HOME_CANCEL, value=value),
                ]
            ),
        ]
    return blocks


def _team(home: TeamHome) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=f"Team {home.team}"),
        _md("\n".join(balance_figures(home.balance, home.zone))),
        _md(forecast_line(home.balance, home.zone)),
    ]
    if home.chart_file_id:
        blocks.append(
            ImageBlock(
                block_id=f"{BlockId.HOME_CHART}:{home.team}",
                slack_file={"id": home.chart_file_id},
                alt_text=f"Team {home.team}: credits spent per day, last 4 weeks",
            )
        )
    return blocks


def _to_decide(requests: list[Decidable]) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="To decide")]
    if not requests:
        return [*blocks, ContextBlock(elements=[MarkdownTextObject(text="Nothing waits for you.")])]
    for item in requests[:MAX_REQUESTS_SHOWN]:
        a = item.approval
        thread = f" · <{item.link}|thread>" if item.link else ""
        charged = already_charged(item.task)
        warning = f"\n:warning: {charged}" if charged else ""
        blocks += [
            _md(
                f"<@{a.requester}>: *{task_line(item.task)}* for *{credits(a.amount)}*\n"
                f"{a.reasons} · expires {when(a.expires_at, item.zone)}{thread}{warning}"
            ),
            ActionsBlock(
                elements=[
                    ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=str(a.id), style="primary"),
                    ButtonElement(text="Deny", action_id=ActionId.DENY, value=str(a.id), style="danger"),
                ]
            ),
        ]
    if len(requests) > MAX_REQUESTS_SHOWN:
        more = len(requests) - MAX_REQUESTS_SHOWN
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{more} more: `/credits requests`")]))
    return blocks


def requests_blocks(requests: list[Decidable]) -> list[Block]:
    """``/credits requests``: the same list as the Home tab's To decide."""
    return _to_decide(requests)


def _quote_buttons(teams: list[str]) -> list[ButtonElement]:
    """One "Quote a task" button, or one per team for a member of several (the form is for one team)."""
    if len(teams) <= 1:
        value = teams[0] if teams else ""
        return [ButtonElement(text="Quote a task", action_id=ActionId.HOME_QUOTE, value=value, style="primary")]
    return [
        ButtonElement(text=f"Quote for {team}"[:75], action_id=f"{ActionId.HOME_QUOTE}:{team}", value=team)
        for team in teams[:5]
    ]


def home_view(teams: list[TeamHome], requests: list[Decidable] | None, *, problem: str | None = None) -> View:
    """The whole Home tab; ``requests`` None hides To decide (I can approve nothing)."""
    blocks: list[Block] = [
        HeaderBlock(text="Keter Labs credits"),
        ActionsBlock(elements=_quote_buttons([home.team for home in teams])),
    ]
    if problem:
        blocks.append(_md(problem))
    for home in teams:
        blocks += [DividerBlock(), HeaderBlock(text=f"Me in {home.team}"), *_me(home), *_team(home)]
    if requests is not None:
        blocks += [DividerBlock(), *_to_decide(requests)]
    return View(type="home", blocks=blocks)
